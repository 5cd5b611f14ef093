//! The filter that applies a `minhash` stage's decision: a UDF over `__source_row` that is
//! true for the rows not removed.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The filter of the stage's result: true for the rows whose `__source_row` is not removed.
#[derive(Debug)]
pub(super) struct KeepRows {
    removed: BooleanBuffer,
    signature: Signature,
}

impl KeepRows {
    pub(super) fn new(removed: BooleanBuffer) -> Self {
        Self {
            removed,
            signature: Signature::exact(vec![DataType::UInt64], Volatility::Immutable),
        }
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
        "minhash_keep"
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
