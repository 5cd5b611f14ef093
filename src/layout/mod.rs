//! A dataset's physical layout as its Parquet footers describe it — per file, per column and
//! per row group — and the warnings a data engineer acts on. Footers only, no data pages.

mod columns;
mod statistics;
mod warnings;

use std::collections::{BTreeSet, HashMap};

use columns::{ColumnSums, chunk_compressed, file_columns};
use statistics::Statistics;

use crate::error::{Error, Result};
use crate::model::inspect::{
    ColumnLayout, FileLayout, LayoutTotals, Projection, RowGroupDistribution, Spread, Warning,
};
use crate::model::pricing::Pricing;
use crate::model::profile::{ColumnStorage, StorageReport};
use crate::source::{DataFile, Dataset};
use crate::util::resources;
use crate::util::units::ratio;

/// The layout of a dataset.
#[derive(Debug, Clone)]
pub struct Layout {
    pub totals: LayoutTotals,
    pub columns: Vec<ColumnLayout>,
    pub files: Vec<FileLayout>,
    pub row_groups: RowGroupDistribution,
    pub warnings: Vec<Warning>,
}

impl Layout {
    /// The storage figures `profile` reports, columns largest first.
    pub fn storage_report(&self) -> StorageReport {
        let totals = &self.totals;
        StorageReport {
            files: totals.files,
            rows: totals.rows,
            row_groups: totals.row_groups,
            file_bytes: totals.file_bytes,
            compressed_bytes: totals.compressed_bytes,
            uncompressed_bytes: totals.uncompressed_bytes,
            columns: self
                .columns
                .iter()
                .map(|c| ColumnStorage {
                    name: c.path.clone(),
                    physical_type: c.physical_type.to_string(),
                    compressed_bytes: c.compressed_bytes,
                    uncompressed_bytes: c.uncompressed_bytes,
                    codecs: c.codec.split(',').map(str::to_string).collect(),
                })
                .collect(),
        }
    }
}

/// Reads the layout of `dataset` from its footers and prices it.
pub fn analyse(dataset: &Dataset, pricing: &Pricing) -> Layout {
    let statistics = Statistics::decode(&dataset.files);
    let Sums {
        files,
        columns: dataset_columns,
        mut row_group_rows,
        mut row_group_bytes,
        ..
    } = parallel_chunks(&dataset.files, |first, part| {
        let mut sums = Sums::default();
        for (i, file) in part.iter().enumerate() {
            sums.add_file(first + i, file, &statistics);
        }
        sums
    })
    .into_iter()
    .reduce(Sums::append)
    .unwrap_or_default();

    let file_bytes = files.iter().map(|f| f.file_bytes).sum();
    let totals = LayoutTotals {
        files: files.len() as u64,
        rows: files.iter().map(|f| f.rows).sum(),
        row_groups: files.iter().map(|f| f.row_groups).sum(),
        file_bytes,
        compressed_bytes: files.iter().map(|f| f.compressed_bytes).sum(),
        uncompressed_bytes: files.iter().map(|f| f.uncompressed_bytes).sum(),
        storage_usd_per_month: pricing.storage_usd_per_month(file_bytes),
    };
    let mut columns: Vec<ColumnLayout> = dataset_columns
        .iter()
        .map(|c| c.to_layout(totals.compressed_bytes, pricing))
        .collect();
    // Largest first; ties in schema order (the sort is stable).
    columns.sort_by_key(|c| std::cmp::Reverse(c.compressed_bytes));

    let row_groups = RowGroupDistribution {
        count: row_group_rows.len() as u64,
        rows: spread(&mut row_group_rows),
        compressed_bytes: spread(&mut row_group_bytes),
    };
    let warnings = warnings::all(dataset, &files, &columns);
    Layout {
        totals,
        columns,
        files,
        row_groups,
        warnings,
    }
}

/// Sums over some files of a dataset, in source order.
#[derive(Default)]
struct Sums {
    files: Vec<FileLayout>,
    /// The leaf columns, in the order they were first seen.
    columns: Vec<ColumnSums>,
    /// Where each column (by path) is in `columns`.
    position: HashMap<String, usize>,
    row_group_rows: Vec<u64>,
    row_group_bytes: Vec<u64>,
}

impl Sums {
    /// Adds `file`, the `index`th of the dataset.
    fn add_file(&mut self, index: usize, file: &DataFile, statistics: &Statistics) {
        for row_group in file.metadata.row_groups() {
            self.row_group_rows
                .push(u64::try_from(row_group.num_rows()).unwrap_or(0));
            self.row_group_bytes
                .push(row_group.columns().iter().map(chunk_compressed).sum());
        }
        let mut columns = file_columns(file);
        for (column, (min, max)) in columns.iter_mut().zip(statistics.extremes(index, file)) {
            column.min = min;
            column.max = max;
        }
        let compressed = columns.iter().map(|c| c.compressed).sum();
        self.files.push(FileLayout {
            path: file.display.clone(),
            rows: file.rows(),
            row_groups: file.metadata.num_row_groups() as u64,
            file_bytes: file.object.size,
            compressed_bytes: compressed,
            uncompressed_bytes: columns.iter().map(|c| c.uncompressed).sum(),
            created_by: file
                .metadata
                .file_metadata()
                .created_by()
                .map(str::to_string),
            columns: columns
                .iter()
                .map(|c| c.to_file_column(compressed))
                .collect(),
        });
        columns.into_iter().for_each(|c| self.add_column(c));
    }

    fn add_column(&mut self, column: ColumnSums) {
        match self.position.get(&column.path) {
            Some(&i) => self.columns[i].merge(column),
            None => {
                self.position
                    .insert(column.path.clone(), self.columns.len());
                self.columns.push(column);
            }
        }
    }

    /// These sums followed by `later`'s.
    fn append(mut self, later: Sums) -> Sums {
        self.files.extend(later.files);
        later.columns.into_iter().for_each(|c| self.add_column(c));
        self.row_group_rows.extend(later.row_group_rows);
        self.row_group_bytes.extend(later.row_group_bytes);
        self
    }
}

/// What a reader of only `wanted` (top-level names or dotted paths) fetches. Unknown names
/// are an error that lists the columns there are.
pub fn projection(layout: &Layout, wanted: &[String], dataset: &str) -> Result<Projection> {
    let mut leaves = BTreeSet::new();
    for name in wanted {
        let selected: Vec<&ColumnLayout> = layout
            .columns
            .iter()
            .filter(|c| c.path == *name || c.path.starts_with(&format!("{name}.")))
            .collect();
        if selected.is_empty() {
            let mut top: Vec<&str> = layout
                .columns
                .iter()
                .map(|c| c.path.split('.').next().unwrap_or(&c.path))
                .collect();
            top.sort_unstable();
            top.dedup();
            return Err(Error::MissingColumn {
                role: "column",
                column: name.clone(),
                dataset: dataset.to_string(),
                columns: top.join(", "),
            });
        }
        leaves.extend(selected.into_iter().map(|c| c.path.clone()));
    }
    let selected = || layout.columns.iter().filter(|c| leaves.contains(&c.path));
    let compressed = selected().map(|c| c.compressed_bytes).sum();
    Ok(Projection {
        columns: wanted.to_vec(),
        leaf_columns: selected().map(|c| c.path.clone()).collect(),
        compressed_bytes: compressed,
        uncompressed_bytes: selected().map(|c| c.uncompressed_bytes).sum(),
        share: ratio(compressed as f64, layout.totals.compressed_bytes as f64),
    })
}

/// `f` of consecutive parts of `items`, one per core, with the index of each part's first
/// item; the results in order.
fn parallel_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let threads = resources::cores().clamp(1, items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| scope.spawn(move || f(c * chunk, part)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Min, median (lower) and max of `values`.
fn spread(values: &mut [u64]) -> Spread {
    if values.is_empty() {
        return Spread::default();
    }
    values.sort_unstable();
    Spread {
        min: values[0],
        median: values[(values.len() - 1) / 2],
        max: values[values.len() - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_and_names() {
        assert_eq!(
            spread(&mut [5, 1, 9, 3]),
            Spread {
                min: 1,
                median: 3,
                max: 9
            }
        );
        assert_eq!(spread(&mut []), Spread::default());
    }
}
