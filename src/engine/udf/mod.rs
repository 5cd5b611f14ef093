//! Text UDFs for SQL stages: one `ScalarUDFImpl` per file, each vectorised over Utf8,
//! LargeUtf8 and Utf8View arrays, NULL in → NULL out, registered by [`register_all`].

/// Declares a one-argument text UDF: a struct accepting any string type, its `Default`, and
/// its `ScalarUDFImpl` with the given SQL name, return type and kernel.
macro_rules! text_udf {
    (
        $(#[$doc:meta])*
        $ty:ident, $name:literal,
        returns: $returns:expr,
        invoke: $invoke:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $ty {
            signature: datafusion::logical_expr::Signature,
        }

        impl Default for $ty {
            fn default() -> Self {
                Self {
                    signature: datafusion::logical_expr::Signature::string(
                        1,
                        datafusion::logical_expr::Volatility::Immutable,
                    ),
                }
            }
        }

        impl datafusion::logical_expr::ScalarUDFImpl for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn signature(&self) -> &datafusion::logical_expr::Signature {
                &self.signature
            }
            fn return_type(
                &self,
                args: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
                $returns($name, args)
            }
            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
                $invoke($name, &args.args)
            }
        }
    };
}

mod char_count;
mod collapse_whitespace;
pub mod keep_rows;
mod kernels;
pub mod lang;
pub mod length_bin;
pub mod minhash;
mod nfc;
mod nfkc;
pub mod pii;
pub mod quality;
mod strip_control;
mod text_hash;
mod token_count;
mod trim_whitespace;
mod word_count;

pub use char_count::CharCount;
pub use collapse_whitespace::{CollapseWhitespace, collapse_whitespace};
pub use keep_rows::KeepRows;
pub use length_bin::TextLengthBin;
pub use nfc::{Nfc, nfc};
pub use nfkc::{Nfkc, nfkc};
pub use quality::{C4Clean, QualityFilter};
pub use strip_control::{StripControl, strip_control};
pub use text_hash::{TextHash, text_hash};
pub use token_count::{TextHash64, TokenCount};
pub use trim_whitespace::TrimWhitespace;
pub use word_count::WordCount;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every prepcost UDF, for registration and for the README's reference.
pub fn all() -> Vec<ScalarUDF> {
    let quality = QualityFilter::all().into_iter().map(ScalarUDF::from);
    let mut all = vec![
        ScalarUDF::from(Nfkc::default()),
        ScalarUDF::from(Nfc::default()),
        ScalarUDF::from(CollapseWhitespace::default()),
        ScalarUDF::from(StripControl::default()),
        ScalarUDF::from(TrimWhitespace::default()),
        ScalarUDF::from(TextHash::default()),
        ScalarUDF::from(TextHash64::default()),
        ScalarUDF::from(TokenCount::default()),
        ScalarUDF::from(WordCount::default()),
        ScalarUDF::from(CharCount::default()),
        ScalarUDF::from(TextLengthBin::default()),
        ScalarUDF::from(minhash::MinhashBands::default()),
        ScalarUDF::from(C4Clean::default()),
        ScalarUDF::from(lang::LangId::default()),
        ScalarUDF::from(lang::LangFilter::default()),
        ScalarUDF::from(pii::PiiCount::default()),
        ScalarUDF::from(pii::PiiRedact::default()),
    ];
    all.extend(quality);
    all
}

/// Registers every prepcost UDF with `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in all() {
        ctx.register_udf(udf);
    }
}

/// The return type of a string-to-string UDF: the type of its argument.
fn same_type(name: &str, args: &[DataType]) -> Result<DataType> {
    match args {
        [t @ (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)] => Ok(t.clone()),
        [DataType::Null] => Ok(DataType::Utf8),
        [other] => plan_err!("{name} expects a string, got {other}"),
        _ => plan_err!("{name} takes exactly one argument, got {}", args.len()),
    }
}

/// The return type of a UDF that always returns `DataType::Int64`.
fn int64(name: &str, args: &[DataType]) -> Result<DataType> {
    exactly_one(name, args, DataType::Int64)
}

/// The return type of a UDF that always returns 16 bytes.
fn digest16(name: &str, args: &[DataType]) -> Result<DataType> {
    exactly_one(name, args, DataType::FixedSizeBinary(16))
}

fn exactly_one(name: &str, args: &[DataType], returns: DataType) -> Result<DataType> {
    match args {
        [_] => Ok(returns),
        _ => plan_err!("{name} takes exactly one argument, got {}", args.len()),
    }
}
