//! Text UDFs for SQL stages: one `ScalarUDFImpl` per file, each vectorised over Utf8,
//! LargeUtf8 and Utf8View arrays, NULL in → NULL out, registered by [`register_all`].

mod char_count;
mod collapse_whitespace;
mod kernels;
mod nfc;
mod nfkc;
mod strip_control;
mod text_hash;
mod trim_whitespace;
mod word_count;

pub use char_count::CharCount;
pub use collapse_whitespace::{CollapseWhitespace, collapse_whitespace};
pub use nfc::{Nfc, nfc};
pub use nfkc::{Nfkc, nfkc};
pub use strip_control::{StripControl, strip_control};
pub use text_hash::{TextHash, text_hash};
pub use trim_whitespace::TrimWhitespace;
pub use word_count::WordCount;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every prepcost UDF, for registration and for the README's reference.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(Nfkc::default()),
        ScalarUDF::from(Nfc::default()),
        ScalarUDF::from(CollapseWhitespace::default()),
        ScalarUDF::from(StripControl::default()),
        ScalarUDF::from(TrimWhitespace::default()),
        ScalarUDF::from(TextHash::default()),
        ScalarUDF::from(WordCount::default()),
        ScalarUDF::from(CharCount::default()),
    ]
}

/// Registers every prepcost UDF with `ctx`.
pub fn register_all(ctx: &SessionContext) {
    for udf in all() {
        ctx.register_udf(udf);
    }
}

/// The return type of a string-to-string UDF: the type of its argument.
fn same_string_type(name: &str, args: &[DataType]) -> Result<DataType> {
    match args {
        [t @ (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)] => Ok(t.clone()),
        [DataType::Null] => Ok(DataType::Utf8),
        [other] => plan_err!("{name} expects a string, got {other}"),
        _ => plan_err!("{name} takes exactly one argument, got {}", args.len()),
    }
}
