//! The filter that applies a `minhash` stage's decision: a UDF over `__source_row` that is
//! true for the rows not removed. The removed rows are part of the function's value; on a
//! cluster they travel inside the plan ([`KeepRows::encode`], [`KeepRows::decode`]).

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::buffer::{BooleanBuffer, Buffer};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The filter of the stage's result: true for the rows whose `__source_row` is not removed.
#[derive(Debug)]
pub struct KeepRows {
    removed: BooleanBuffer,
    signature: Signature,
}

impl KeepRows {
    /// The SQL name of the filter.
    pub const NAME: &str = "minhash_keep";

    /// Keeps the rows whose `__source_row` is not set in `removed`.
    pub fn new(removed: BooleanBuffer) -> Self {
        Self {
            removed,
            signature: Signature::exact(vec![DataType::UInt64], Volatility::Immutable),
        }
    }

    /// The removed rows as bytes: their count, then the bitmap.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&(self.removed.len() as u64).to_le_bytes());
        buf.extend_from_slice(self.removed.sliced().as_slice());
    }

    /// The filter [`KeepRows::encode`] wrote; `None` for bytes it did not write.
    pub fn decode(buf: &[u8]) -> Option<Self> {
        let (len, bits) = buf.split_first_chunk::<8>()?;
        let len = usize::try_from(u64::from_le_bytes(*len)).ok()?;
        if bits.len() != len.div_ceil(8) {
            return None;
        }
        let removed = BooleanBuffer::new(Buffer::from(bits.to_vec()), 0, len);
        Some(Self::new(removed))
    }
}

impl PartialEq for KeepRows {
    fn eq(&self, other: &Self) -> bool {
        self.removed == other.removed
    }
}

impl Eq for KeepRows {}

impl std::hash::Hash for KeepRows {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.removed.len().hash(state);
        self.removed.count_set_bits().hash(state);
    }
}

impl ScalarUDFImpl for KeepRows {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = match &args.args[..] {
            [ColumnarValue::Array(rows)] => Arc::clone(rows),
            [ColumnarValue::Scalar(row)] => row.to_array()?,
            _ => return exec_err!("minhash_keep takes one argument"),
        };
        let rows = rows.as_primitive::<UInt64Type>();
        let keep: BooleanArray = rows
            .values()
            .iter()
            .map(|&row| {
                let row = row as usize;
                Some(row >= self.removed.len() || !self.removed.value(row))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(keep)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_rows_survive_encoding() {
        let removed = BooleanBuffer::from_iter((0..77).map(|i| i % 5 == 3));
        let mut buf = Vec::new();
        KeepRows::new(removed.clone()).encode(&mut buf);
        assert_eq!(KeepRows::decode(&buf).unwrap().removed, removed);
        assert!(KeepRows::decode(&buf[..buf.len() - 1]).is_none());
        assert!(KeepRows::decode(&[1, 2]).is_none());
    }
}
