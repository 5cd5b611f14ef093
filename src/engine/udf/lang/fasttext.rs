//! A reader of fastText's supervised models (`.bin` and quantized `.ftz`) and its
//! prediction, as fastText 0.9.2 computes it: the words and character n-grams of a line are
//! hashed (FNV-1a over sign-extended bytes) into the input matrix, their rows averaged, and
//! the labels scored through the hierarchical softmax tree or a softmax over the output matrix.

use foldhash::HashMap;
use foldhash::HashMapExt;

/// What can go wrong reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a fastText model (magic {0:#x})")]
    Magic(i32),
    #[error("fastText model version {0} is not supported")]
    Version(i32),
    #[error("the model file ends early, reading {0}")]
    Truncated(&'static str),
    #[error("the model file is inconsistent: {0}")]
    Inconsistent(&'static str),
}

const MAGIC: i32 = 793_712_314;
const EOS: &str = "</s>";
const BOW: &str = "<";
const EOW: &str = ">";

/// The loss the model was trained with, which decides how labels are scored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Loss {
    HierarchicalSoftmax,
    Softmax,
}

/// A row-major matrix, dense or product-quantized.
#[derive(Debug)]
enum Matrix {
    Dense { cols: usize, values: Vec<f32> },
    Quantized(Box<Quantized>),
}

/// A product-quantized matrix: each row is `subquantizers` codes into per-subspace centroid
/// tables, optionally scaled by a quantized norm.
#[derive(Debug)]
struct Quantized {
    codes: Vec<u8>,
    pq: ProductQuantizer,
    norms: Option<(Vec<u8>, ProductQuantizer)>,
}

#[derive(Debug)]
struct ProductQuantizer {
    subquantizers: usize,
    sub_dim: usize,
    last_sub_dim: usize,
    centroids: Vec<f32>,
}

const CENTROIDS: usize = 256;

impl ProductQuantizer {
    fn centroid(&self, m: usize, code: u8) -> &[f32] {
        let code = usize::from(code);
        if m + 1 == self.subquantizers {
            let at = m * CENTROIDS * self.sub_dim + code * self.last_sub_dim;
            &self.centroids[at..at + self.last_sub_dim]
        } else {
            let at = (m * CENTROIDS + code) * self.sub_dim;
            &self.centroids[at..at + self.sub_dim]
        }
    }
}

impl Quantized {
    fn row(&self, row: usize) -> impl Iterator<Item = (usize, &[f32])> {
        let n = self.pq.subquantizers;
        self.codes[row * n..(row + 1) * n]
            .iter()
            .enumerate()
            .map(move |(m, &code)| (m * self.pq.sub_dim, self.pq.centroid(m, code)))
    }

    fn norm(&self, row: usize) -> f32 {
        self.norms
            .as_ref()
            .map_or(1.0, |(codes, pq)| pq.centroid(0, codes[row])[0])
    }
}

impl Matrix {
    /// `x += row`.
    fn add_row(&self, x: &mut [f32], row: usize) {
        match self {
            Matrix::Dense { cols, values } => {
                for (xi, v) in x.iter_mut().zip(&values[row * cols..(row + 1) * cols]) {
                    *xi += v;
                }
            }
            Matrix::Quantized(q) => {
                let norm = q.norm(row);
                for (at, centroid) in q.row(row) {
                    for (xi, c) in x[at..].iter_mut().zip(centroid) {
                        *xi += norm * c;
                    }
                }
            }
        }
    }

    /// `row · x`.
    fn dot_row(&self, x: &[f32], row: usize) -> f32 {
        match self {
            Matrix::Dense { cols, values } => values[row * cols..(row + 1) * cols]
                .iter()
                .zip(x)
                .map(|(v, xi)| v * xi)
                .sum(),
            Matrix::Quantized(q) => {
                let dot: f32 = q
                    .row(row)
                    .map(|(at, c)| c.iter().zip(&x[at..]).map(|(c, xi)| c * xi).sum::<f32>())
                    .sum();
                dot * q.norm(row)
            }
        }
    }

    fn rows(&self) -> usize {
        match self {
            Matrix::Dense { cols, values } => values.len() / (*cols).max(1),
            Matrix::Quantized(q) => q.codes.len() / q.pq.subquantizers.max(1),
        }
    }
}

/// A node of the hierarchical softmax tree.
#[derive(Debug, Clone, Copy)]
struct Node {
    left: Option<usize>,
    right: Option<usize>,
    count: i64,
}

/// A loaded supervised fastText model.
#[derive(Debug)]
pub struct Model {
    dim: usize,
    min_n: usize,
    max_n: usize,
    word_ngrams: usize,
    bucket: u32,
    loss: Loss,
    /// Rows before the n-gram buckets' (one per word).
    n_words: usize,
    words: HashMap<String, usize>,
    /// The input rows of each known word: itself and its character n-grams.
    subwords: Vec<Vec<usize>>,
    labels: Vec<String>,
    /// Pruned n-gram buckets (in quantized models): bucket → row offset.
    pruned: Option<HashMap<i32, i32>>,
    input: Matrix,
    output: Matrix,
    tree: Vec<Node>,
}

/// A little-endian reader over the model's bytes.
struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ModelError> {
        if self.rest.len() < n {
            return Err(ModelError::Truncated(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, ModelError> {
        let b = self.take(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, ModelError> {
        let b = self.take(8, what)?;
        Ok(i64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, ModelError> {
        Ok(self.take(1, what)?[0])
    }

    fn count(&mut self, what: &'static str) -> Result<usize, ModelError> {
        usize::try_from(self.i32(what)?).map_err(|_| ModelError::Inconsistent(what))
    }

    fn count64(&mut self, what: &'static str) -> Result<usize, ModelError> {
        usize::try_from(self.i64(what)?).map_err(|_| ModelError::Inconsistent(what))
    }

    fn floats(&mut self, n: usize, what: &'static str) -> Result<Vec<f32>, ModelError> {
        let bytes = n.checked_mul(4).ok_or(ModelError::Inconsistent(what))?;
        Ok(self
            .take(bytes, what)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn string(&mut self, what: &'static str) -> Result<String, ModelError> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ModelError::Truncated(what))?;
        let s = String::from_utf8_lossy(&self.rest[..end]).into_owned();
        self.rest = &self.rest[end + 1..];
        Ok(s)
    }
}

/// The training arguments prediction needs.
struct Args {
    dim: usize,
    word_ngrams: usize,
    loss: Loss,
    bucket: u32,
    min_n: usize,
    max_n: usize,
}

fn read_args(b: &mut Bytes) -> Result<Args, ModelError> {
    let dim = b.count("dim")?;
    let _ws = b.i32("ws")?;
    let _epoch = b.i32("epoch")?;
    let _min_count = b.i32("minCount")?;
    let _neg = b.i32("neg")?;
    let word_ngrams = b.count("wordNgrams")?;
    let loss = match b.i32("loss")? {
        1 => Loss::HierarchicalSoftmax,
        3 => Loss::Softmax,
        _ => {
            return Err(ModelError::Inconsistent(
                "only hs and softmax models are read",
            ));
        }
    };
    let _model = b.i32("model")?;
    let bucket = u32::try_from(b.i32("bucket")?).map_err(|_| ModelError::Inconsistent("bucket"))?;
    let min_n = b.count("minn")?;
    let max_n = b.count("maxn")?;
    let _lr_update_rate = b.i32("lrUpdateRate")?;
    let _t = b.take(8, "t")?;
    Ok(Args {
        dim,
        word_ngrams,
        loss,
        bucket,
        min_n,
        max_n,
    })
}

/// The dictionary: words (with their counts) and labels, and the pruned n-gram table.
struct Dictionary {
    words: Vec<String>,
    labels: Vec<(String, i64)>,
    pruned: Option<HashMap<i32, i32>>,
}

fn read_dictionary(b: &mut Bytes) -> Result<Dictionary, ModelError> {
    let size = b.count("dictionary size")?;
    let n_words = b.count("word count")?;
    let _n_labels = b.count("label count")?;
    let _n_tokens = b.i64("token count")?;
    let pruned_size = b.i64("pruned size")?;
    let mut words = Vec::with_capacity(n_words.min(size));
    let mut labels = Vec::new();
    for _ in 0..size {
        let entry = b.string("a dictionary entry")?;
        let count = b.i64("an entry's count")?;
        match b.u8("an entry's type")? {
            0 => words.push(entry),
            _ => labels.push((entry, count)),
        }
    }
    if words.len() != n_words {
        return Err(ModelError::Inconsistent("word count"));
    }
    let pruned = if pruned_size >= 0 {
        let mut table = HashMap::new();
        for _ in 0..pruned_size {
            table.insert(b.i32("pruned index")?, b.i32("pruned index")?);
        }
        Some(table)
    } else {
        None
    };
    Ok(Dictionary {
        words,
        labels,
        pruned,
    })
}

fn read_pq(b: &mut Bytes) -> Result<ProductQuantizer, ModelError> {
    let dim = b.count("pq dim")?;
    let subquantizers = b.count("pq nsubq")?;
    let sub_dim = b.count("pq dsub")?;
    let last_sub_dim = b.count("pq lastdsub")?;
    let centroids = b.floats(dim * CENTROIDS, "pq centroids")?;
    let fits = subquantizers > 0
        && sub_dim * (subquantizers - 1) + last_sub_dim == dim
        && last_sub_dim <= sub_dim.max(1);
    if !fits {
        return Err(ModelError::Inconsistent("product quantizer shape"));
    }
    Ok(ProductQuantizer {
        subquantizers,
        sub_dim,
        last_sub_dim,
        centroids,
    })
}

fn read_matrix(b: &mut Bytes, quantized: bool, dim: usize) -> Result<Matrix, ModelError> {
    if !quantized {
        let rows = b.count64("matrix rows")?;
        let cols = b.count64("matrix columns")?;
        if cols != dim {
            return Err(ModelError::Inconsistent("matrix columns"));
        }
        let n = rows
            .checked_mul(cols)
            .ok_or(ModelError::Inconsistent("matrix size"))?;
        let values = b.floats(n, "matrix values")?;
        return Ok(Matrix::Dense { cols, values });
    }
    let with_norms = b.u8("qnorm")? != 0;
    let rows = b.count64("matrix rows")?;
    let cols = b.count64("matrix columns")?;
    let code_size = b.count("code size")?;
    let codes = b.take(code_size, "codes")?.to_vec();
    let pq = read_pq(b)?;
    if cols != dim || pq.centroids.len() != dim * CENTROIDS || code_size != rows * pq.subquantizers
    {
        return Err(ModelError::Inconsistent("quantized matrix shape"));
    }
    let norms = if with_norms {
        let codes = b.take(rows, "norm codes")?.to_vec();
        let pq = read_pq(b)?;
        if pq.centroids.len() != CENTROIDS {
            return Err(ModelError::Inconsistent("norm quantizer shape"));
        }
        Some((codes, pq))
    } else {
        None
    };
    Ok(Matrix::Quantized(Box::new(Quantized { codes, pq, norms })))
}

impl Model {
    /// Reads a model from the bytes of a `.bin` or `.ftz` file.
    pub fn read(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut b = Bytes { rest: bytes };
        let magic = b.i32("magic")?;
        if magic != MAGIC {
            return Err(ModelError::Magic(magic));
        }
        let version = b.i32("version")?;
        if version != 12 {
            return Err(ModelError::Version(version));
        }
        let args = read_args(&mut b)?;
        let dictionary = read_dictionary(&mut b)?;
        let quantized = b.u8("quant flag")? != 0;
        let input = read_matrix(&mut b, quantized, args.dim)?;
        let quantized_output = b.u8("qout flag")? != 0;
        let output = read_matrix(&mut b, quantized && quantized_output, args.dim)?;
        Self::assemble(args, dictionary, input, output)
    }

    fn assemble(
        args: Args,
        dictionary: Dictionary,
        input: Matrix,
        output: Matrix,
    ) -> Result<Self, ModelError> {
        let Dictionary {
            words,
            labels,
            pruned,
        } = dictionary;
        if output.rows() != labels.len() || labels.is_empty() {
            return Err(ModelError::Inconsistent("output rows and labels"));
        }
        let tree = build_tree(labels.iter().map(|(_, count)| *count));
        let mut model = Model {
            dim: args.dim,
            min_n: args.min_n,
            max_n: args.max_n,
            word_ngrams: args.word_ngrams,
            bucket: args.bucket,
            loss: args.loss,
            n_words: words.len(),
            words: HashMap::with_capacity(words.len()),
            subwords: Vec::with_capacity(words.len()),
            labels: labels.into_iter().map(|(l, _)| l).collect(),
            pruned,
            input,
            output,
            tree,
        };
        for (id, word) in words.into_iter().enumerate() {
            let mut rows = vec![id];
            if word != EOS {
                model.char_ngrams(&format!("{BOW}{word}{EOW}"), &mut rows);
            }
            model.subwords.push(rows);
            model.words.insert(word, id);
        }
        let most = model.subwords.iter().flatten().max().copied().unwrap_or(0);
        if most >= model.input.rows() {
            return Err(ModelError::Inconsistent("input rows"));
        }
        Ok(model)
    }

    /// The labels, `__label__` prefix included, in the model's order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The input row of n-gram bucket `id`, if the model kept it.
    fn bucket_row(&self, id: i32) -> Option<usize> {
        let id = match &self.pruned {
            None => id,
            Some(table) => *table.get(&id)?,
        };
        usize::try_from(id).ok().map(|id| self.n_words + id)
    }

    fn push_bucket(&self, id: i32, rows: &mut Vec<usize>) {
        if let Some(row) = self.bucket_row(id).filter(|&r| r < self.input.rows()) {
            rows.push(row);
        }
    }

    /// Appends the rows of `word`'s character n-grams (`word` has its `<` and `>`).
    fn char_ngrams(&self, word: &str, rows: &mut Vec<usize>) {
        if self.max_n == 0 || self.bucket == 0 {
            return;
        }
        let starts: Vec<usize> = word.char_indices().map(|(i, _)| i).collect();
        for (k, &start) in starts.iter().enumerate() {
            for n in self.min_n.max(1)..=self.max_n {
                let end = match starts.get(k + n) {
                    Some(&end) => end,
                    None if k + n == starts.len() => word.len(),
                    None => break,
                };
                let whole_edge = n == 1 && (k == 0 || end == word.len());
                if !whole_edge {
                    let id = (hash(&word[start..end]) % self.bucket) as i32;
                    self.push_bucket(id, rows);
                }
            }
        }
    }

    /// The input rows of one line of text, as fastText's `getLine` finds them (the line ends
    /// with the end-of-sentence token, as `predict` appends a newline).
    fn line_rows(&self, text: &str) -> Vec<usize> {
        let mut rows = Vec::new();
        let mut hashes = Vec::new();
        let mut bracketed = String::new();
        let tokens = text
            .split([' ', '\n', '\r', '\t', '\u{0B}', '\u{0C}', '\0'])
            .filter(|t| !t.is_empty())
            .chain(std::iter::once(EOS));
        for token in tokens {
            match self.words.get(token) {
                Some(&id) => rows.extend(&self.subwords[id]),
                None if token.starts_with("__label__") => continue,
                None if token == EOS => {}
                None => {
                    bracketed.clear();
                    bracketed.extend([BOW, token, EOW]);
                    self.char_ngrams(&bracketed, &mut rows);
                }
            }
            hashes.push(hash(token) as i32);
        }
        self.word_ngram_rows(&hashes, &mut rows);
        rows
    }

    fn word_ngram_rows(&self, hashes: &[i32], rows: &mut Vec<usize>) {
        if self.bucket == 0 {
            return;
        }
        for i in 0..hashes.len() {
            // Sign-extended, as fastText widens its int32 hashes.
            let mut h = hashes[i] as i64 as u64;
            for &next in hashes
                .iter()
                .skip(i + 1)
                .take(self.word_ngrams.saturating_sub(1))
            {
                h = h.wrapping_mul(116_049_371).wrapping_add(next as i64 as u64);
                self.push_bucket((h % u64::from(self.bucket)) as i32, rows);
            }
        }
    }

    /// The most likely label of `text` (with any `__label__` prefix) and its probability;
    /// `None` for a text with no tokens the model has rows for.
    pub fn predict(&self, text: &str) -> Option<(&str, f32)> {
        let rows = self.line_rows(text);
        if rows.is_empty() {
            return None;
        }
        let mut hidden = vec![0.0f32; self.dim];
        for &row in &rows {
            self.input.add_row(&mut hidden, row);
        }
        let scale = 1.0 / rows.len() as f32;
        hidden.iter_mut().for_each(|h| *h *= scale);
        let (label, log_p) = match self.loss {
            Loss::HierarchicalSoftmax => self.best_leaf(&hidden),
            Loss::Softmax => self.best_softmax(&hidden),
        };
        Some((&self.labels[label], log_p.exp()))
    }

    /// The leaf of highest log-probability, by a depth-first search pruned at the best leaf
    /// found so far (fastText's `dfs` with k = 1).
    fn best_leaf(&self, hidden: &[f32]) -> (usize, f32) {
        let labels = self.labels.len();
        let mut best = (0, f32::NEG_INFINITY);
        let mut stack = vec![(self.tree.len() - 1, 0.0f32)];
        while let Some((node, score)) = stack.pop() {
            if score < best.1 || score < std_log(0.0) {
                continue;
            }
            let Node { left, right, .. } = self.tree[node];
            let (Some(left), Some(right)) = (left, right) else {
                best = (node, score);
                continue;
            };
            let f = 1.0 / (1.0 + (-self.output.dot_row(hidden, node - labels)).exp());
            // Pushed right first, so the left subtree is searched first, as fastText does.
            stack.push((right, score + std_log(f)));
            stack.push((left, score + std_log(1.0 - f)));
        }
        best
    }

    fn best_softmax(&self, hidden: &[f32]) -> (usize, f32) {
        let scores: Vec<f32> = (0..self.labels.len())
            .map(|i| self.output.dot_row(hidden, i))
            .collect();
        let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = scores.iter().map(|s| (s - max).exp()).sum();
        let (best, top) = scores
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |b, (i, &s)| if s > b.1 { (i, s) } else { b },
            );
        (best, std_log((top - max).exp() / z))
    }
}

/// fastText's `std_log`: the log of `x + 1e-5`.
fn std_log(x: f32) -> f32 {
    (x + 1e-5).ln()
}

/// fastText's string hash: FNV-1a over bytes sign-extended from `int8`.
fn hash(s: &str) -> u32 {
    s.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ (b as i8 as i32 as u32)).wrapping_mul(16_777_619)
    })
}

/// The Huffman tree of the hierarchical softmax, built from the label counts (sorted
/// descending, as the dictionary keeps them) as fastText builds it.
fn build_tree(counts: impl Iterator<Item = i64>) -> Vec<Node> {
    let counts: Vec<i64> = counts.collect();
    let leaves = counts.len();
    let mut tree = vec![
        Node {
            left: None,
            right: None,
            count: 1_000_000_000_000_000,
        };
        2 * leaves - 1
    ];
    for (node, &count) in tree.iter_mut().zip(&counts) {
        node.count = count;
    }
    let mut leaf = leaves as isize - 1;
    let mut next = leaves;
    for i in leaves..2 * leaves - 1 {
        let mut pick = || {
            if leaf >= 0 && tree[leaf as usize].count < tree[next].count {
                leaf -= 1;
                (leaf + 1) as usize
            } else {
                next += 1;
                next - 1
            }
        };
        let (a, b) = (pick(), pick());
        tree[i] = Node {
            left: Some(a),
            right: Some(b),
            count: tree[a].count + tree[b].count,
        };
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fasttexts() {
        // FNV-1a 32-bit of ASCII, and of bytes ≥ 0x80 sign-extended as fastText does.
        assert_eq!(hash(""), 2_166_136_261);
        assert_eq!(hash("a"), 0xe40c_292c);
        assert_ne!(hash("é"), {
            let mut h = 2_166_136_261u32;
            for b in "é".bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
            }
            h
        });
    }

    #[test]
    fn the_tree_joins_the_two_rarest_first() {
        let tree = build_tree([5, 3, 2, 1].into_iter());
        assert_eq!(tree.len(), 7);
        assert_eq!(
            (tree[4].left, tree[4].right, tree[4].count),
            (Some(3), Some(2), 3)
        );
        assert_eq!(tree[6].count, 11);
    }

    #[test]
    fn bad_bytes_are_errors() {
        assert!(matches!(Model::read(b""), Err(ModelError::Truncated(_))));
        assert!(matches!(Model::read(&[0; 8]), Err(ModelError::Magic(0))));
        let mut file = MAGIC.to_le_bytes().to_vec();
        file.extend(12i32.to_le_bytes());
        file.extend([0; 20]);
        assert!(Model::read(&file).is_err());
    }
}
