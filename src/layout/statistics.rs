//! Min and max statistics from the footers, decoded to Arrow values with their logical types
//! so that they compare as the values do, and shown shortened.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use datafusion::parquet::arrow::{ARROW_SCHEMA_META_KEY, parquet_to_arrow_schema};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::schema::types::SchemaDescPtr;

use crate::source::DataFile;

/// Longest min or max value shown, in characters.
const STAT_VALUE_CHARS: usize = 40;

/// The smallest and the largest value of a column.
pub(super) type Extremes = (Option<ScalarValue>, Option<ScalarValue>);

/// The min and max statistics of every row group of the top-level columns, decoded to Arrow
/// values with their logical types, so that they compare as the values do (signed, unsigned,
/// decimal, string). The row groups of all files with one schema are decoded together, one
/// array per column: most datasets have one schema, and converting a schema and building
/// arrays costs more per file than the rest of its analysis.
pub(super) struct Statistics {
    /// Per schema, per leaf column (`None` for nested ones and where there is no Arrow type):
    /// the mins and maxes of its files' row groups, file after file.
    groups: Vec<Vec<Option<(ArrayRef, ArrayRef)>>>,
    /// Per file, its schema group and its first row group's place in the group's arrays.
    placement: Vec<(usize, usize)>,
}

impl Statistics {
    pub(super) fn decode(files: &[DataFile]) -> Self {
        let mut placement = vec![(0, 0); files.len()];
        let groups = schema_groups(files)
            .into_iter()
            .enumerate()
            .map(|(g, group)| {
                let mut offset = 0;
                for &i in &group.files {
                    placement[i] = (g, offset);
                    offset += files[i].metadata.num_row_groups();
                }
                group.decode(files)
            })
            .collect();
        Statistics { groups, placement }
    }

    /// The min and max of each leaf column of `file`, the `index`th, in schema order (`None`
    /// for nested columns and where there are no statistics).
    pub(super) fn extremes(&self, index: usize, file: &DataFile) -> Vec<Extremes> {
        let Some((group, offset)) = self.placement.get(index) else {
            return Vec::new();
        };
        let n = file.metadata.num_row_groups();
        self.groups[*group]
            .iter()
            .map(|arrays| match arrays {
                Some((mins, maxes)) => (
                    fold_extreme(&mins.slice(*offset, n), Ordering::Less),
                    fold_extreme(&maxes.slice(*offset, n), Ordering::Greater),
                ),
                None => (None, None),
            })
            .collect()
    }
}

/// Files that share a schema, and its Arrow equivalent (`None` when it has none).
struct SchemaGroup {
    schema: SchemaDescPtr,
    /// The `ARROW:schema` hint stored with the schema, which decides some Arrow types.
    hint: Option<String>,
    arrow: Option<SchemaRef>,
    files: Vec<usize>,
}

impl SchemaGroup {
    /// Per leaf column, the mins and maxes of the group's row groups.
    fn decode(&self, files: &[DataFile]) -> Vec<Option<(ArrayRef, ArrayRef)>> {
        let row_groups = || {
            self.files
                .iter()
                .flat_map(|&i| files[i].metadata.row_groups())
        };
        self.schema
            .columns()
            .iter()
            .map(|descr| {
                let arrow = self.arrow.as_ref()?;
                if descr.path().parts().len() != 1 {
                    return None;
                }
                let converter =
                    StatisticsConverter::try_new(descr.name(), arrow, &self.schema).ok()?;
                let mins = converter.row_group_mins(row_groups()).ok()?;
                let maxes = converter.row_group_maxes(row_groups()).ok()?;
                Some((mins, maxes))
            })
            .collect()
    }
}

/// The files grouped by schema, each schema converted to Arrow once.
fn schema_groups(files: &[DataFile]) -> Vec<SchemaGroup> {
    /// Groups a file is compared with before it starts a group of its own.
    const COMPARED: usize = 16;
    let mut groups: Vec<SchemaGroup> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let metadata = file.metadata.file_metadata();
        let schema = metadata.schema_descr_ptr();
        let hint = metadata
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|kv| kv.key == ARROW_SCHEMA_META_KEY))
            .and_then(|kv| kv.value.clone());
        let same = groups
            .iter_mut()
            .rev()
            .take(COMPARED)
            .find(|g| g.hint == hint && g.schema.root_schema() == schema.root_schema());
        if let Some(group) = same {
            group.files.push(i);
            continue;
        }
        let hint_only = hint.clone().map(|value| {
            vec![KeyValue {
                key: ARROW_SCHEMA_META_KEY.into(),
                value: Some(value),
            }]
        });
        let arrow = parquet_to_arrow_schema(&schema, hint_only.as_ref())
            .ok()
            .map(Arc::new);
        groups.push(SchemaGroup {
            schema,
            hint,
            arrow,
            files: vec![i],
        });
    }
    groups
}

/// The smallest (`Less`) or largest (`Greater`) non-NULL value of an array.
fn fold_extreme(values: &ArrayRef, want: Ordering) -> Option<ScalarValue> {
    (0..values.len())
        .filter(|&i| values.is_valid(i))
        .filter_map(|i| ScalarValue::try_from_array(values, i).ok())
        .fold(None, |best, v| extreme(best, Some(v), want))
}

/// The one of `a` and `b` that is further in the `want` direction; values that do not
/// compare (different types across files, NaN) leave the first.
pub(super) fn extreme(
    a: Option<ScalarValue>,
    b: Option<ScalarValue>,
    want: Ordering,
) -> Option<ScalarValue> {
    match (a, b) {
        (Some(a), Some(b)) => match b.partial_cmp(&a) {
            Some(o) if o == want => Some(b),
            _ => Some(a),
        },
        (a, b) => a.or(b),
    }
}

/// A statistics value as shown: strings without quotes, long values cut with `…`.
pub(super) fn show_value(value: &ScalarValue) -> String {
    let text = match value {
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b))
        | ScalarValue::FixedSizeBinary(_, Some(b)) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => b.iter().map(|x| format!("{x:02x}")).collect(),
        },
        other => other.to_string(),
    };
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > STAT_VALUE_CHARS {
        let cut: String = text.chars().take(STAT_VALUE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremes_compare_as_values() {
        let v = |i: i64| Some(ScalarValue::Int64(Some(i)));
        assert_eq!(extreme(v(-5), v(3), Ordering::Less), v(-5));
        assert_eq!(extreme(v(-5), v(3), Ordering::Greater), v(3));
        assert_eq!(extreme(None, v(3), Ordering::Less), v(3));
        // Values of different types do not compare: the first stays.
        let s = Some(ScalarValue::Utf8(Some("a".into())));
        assert_eq!(extreme(v(1), s, Ordering::Less), v(1));
    }

    #[test]
    fn long_and_binary_values_are_shortened() {
        let long = ScalarValue::Utf8(Some("x".repeat(100)));
        assert_eq!(show_value(&long).chars().count(), STAT_VALUE_CHARS);
        let binary = ScalarValue::Binary(Some(vec![0xff, 0x00]));
        assert_eq!(show_value(&binary), "ff00");
    }
}
