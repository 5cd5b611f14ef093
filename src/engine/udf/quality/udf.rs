//! The quality filters as SQL functions: `<filter>(text)` → true to keep, `<filter>_stats(text)`
//! → the struct of what it measured; the C4 ones, and `c4_clean`, take an optional literal
//! `require_terminal_punct` (default true).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Builder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::{Judge, Rule, Verdict, c4, fineweb, gopher, repetition};
use crate::engine::udf::kernels::{
    for_each_text, map_strings, map_strings_to_bool, shape_like_input, single_argument,
};

/// The four filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Filter {
    Gopher,
    Repetition,
    C4,
    Fineweb,
}

impl Filter {
    const ALL: [Filter; 4] = [Self::Gopher, Self::Repetition, Self::C4, Self::Fineweb];

    fn name(self) -> &'static str {
        match self {
            Self::Gopher => "gopher_quality",
            Self::Repetition => "gopher_repetition",
            Self::C4 => "c4_quality",
            Self::Fineweb => "fineweb_quality",
        }
    }

    fn measures(self) -> &'static [&'static str] {
        match self {
            Self::Gopher => gopher::MEASURES,
            Self::Repetition => repetition::MEASURES,
            Self::C4 => c4::MEASURES,
            Self::Fineweb => fineweb::MEASURES,
        }
    }

    fn rules(self) -> &'static [Rule] {
        match self {
            Self::Gopher => gopher::RULES,
            Self::Repetition => repetition::RULES,
            Self::C4 => c4::RULES,
            Self::Fineweb => fineweb::RULES,
        }
    }

    fn measure(self, text: &str, require_terminal_punct: bool, judge: &mut Judge) -> Verdict {
        match self {
            Self::Gopher => gopher::measure(text, judge),
            Self::Repetition => repetition::measure(text, judge),
            Self::C4 => c4::measure(text, require_terminal_punct, judge, None),
            Self::Fineweb => fineweb::measure(text, judge),
        }
    }

    fn stats_fields(self) -> Fields {
        self.measures()
            .iter()
            .map(|m| Field::new(*m, DataType::Float64, true))
            .collect()
    }
}

/// A signature of one string, or (for the C4 functions) a string and a boolean.
fn signature(takes_flag: bool) -> Signature {
    if !takes_flag {
        return Signature::string(1, Volatility::Immutable);
    }
    let strings = [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View];
    let with_flag = strings
        .into_iter()
        .map(|t| TypeSignature::Exact(vec![t, DataType::Boolean]));
    let one_of = std::iter::once(TypeSignature::String(1)).chain(with_flag);
    Signature::one_of(one_of.collect(), Volatility::Immutable)
}

/// The literal `require_terminal_punct` of a call (true when absent).
fn terminal_flag(name: &str, args: &[ColumnarValue]) -> Result<bool> {
    match args.get(1) {
        None => Ok(true),
        Some(ColumnarValue::Scalar(flag)) => literal_flag(name, Some(flag)),
        Some(ColumnarValue::Array(_)) => literal_flag(name, None),
    }
}

/// The value of a literal flag argument: a non-NULL boolean constant.
fn literal_flag(name: &str, flag: Option<&ScalarValue>) -> Result<bool> {
    match flag {
        Some(ScalarValue::Boolean(Some(b))) => Ok(*b),
        _ => plan_err!(
            "{name}: its second argument, require_terminal_punct, must be the constant true or false"
        ),
    }
}

/// Checks a call's literal flag at planning time.
fn check_flag(name: &str, args: &ReturnFieldArgs) -> Result<()> {
    if args.arg_fields.len() > 1 {
        literal_flag(name, args.scalar_arguments.get(1).copied().flatten())?;
    }
    Ok(())
}

/// `gopher_quality`, `gopher_repetition`, `c4_quality`, `fineweb_quality` and their `_stats`
/// forms.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct QualityFilter {
    filter: Filter,
    stats: bool,
    name: String,
    signature: Signature,
}

impl QualityFilter {
    /// All eight functions.
    pub fn all() -> Vec<Self> {
        Filter::ALL
            .into_iter()
            .flat_map(|filter| [false, true].map(|stats| Self::new(filter, stats)))
            .collect()
    }

    fn new(filter: Filter, stats: bool) -> Self {
        let name = match stats {
            false => filter.name().to_string(),
            true => format!("{}_stats", filter.name()),
        };
        Self {
            filter,
            stats,
            name,
            signature: signature(filter == Filter::C4),
        }
    }

    fn stats_array(&self, array: &ArrayRef, require: bool) -> Result<StructArray> {
        let measures = self.filter.measures().len();
        let mut columns: Vec<Float64Builder> =
            (0..measures).map(|_| Float64Builder::new()).collect();
        let mut valid = Vec::with_capacity(array.len());
        for_each_text(array, &self.name, |text| {
            valid.push(text.is_some());
            let mut judge = Judge::recording(self.filter.rules(), measures);
            if let Some(text) = text {
                let _ = self.filter.measure(text, require, &mut judge);
            }
            for (column, &value) in columns.iter_mut().zip(judge.values()) {
                column.append_option((text.is_some() && !value.is_nan()).then_some(value));
            }
        })?;
        let columns: Vec<ArrayRef> = columns
            .iter_mut()
            .map(|c| Arc::new(c.finish()) as ArrayRef)
            .collect();
        Ok(StructArray::try_new(
            self.filter.stats_fields(),
            columns,
            Some(NullBuffer::from(valid)),
        )?)
    }
}

impl ScalarUDFImpl for QualityFilter {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.stats {
            true => DataType::Struct(self.filter.stats_fields()),
            false => DataType::Boolean,
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_flag(&self.name, &args)?;
        Ok(Field::new(&self.name, self.return_type(&[])?, true).into())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let require = terminal_flag(&self.name, &args.args)?;
        let text = &args.args[..1];
        if !self.stats {
            let (filter, measures) = (self.filter, self.filter.measures().len());
            return map_strings_to_bool(&self.name, text, |s| {
                let mut judge = Judge::judging(filter.rules(), measures);
                filter.measure(s, require, &mut judge).is_continue()
            });
        }
        let (array, scalar) = single_argument(&self.name, text)?;
        let out = self.stats_array(&array, require)?;
        shape_like_input(Arc::new(out), scalar)
    }
}

/// `c4_clean(text [, require_terminal_punct])`: the lines C4 keeps of a text it keeps, joined
/// by newlines; an empty string for a text it drops.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct C4Clean {
    signature: Signature,
}

impl Default for C4Clean {
    fn default() -> Self {
        Self {
            signature: signature(true),
        }
    }
}

impl ScalarUDFImpl for C4Clean {
    fn name(&self) -> &str {
        "c4_clean"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(DataType::Null) | None => Ok(DataType::Utf8),
            Some(text) => Ok(text.clone()),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_flag("c4_clean", &args)?;
        let text = args.arg_fields.first().map(|f| f.data_type().clone());
        let returns = self.return_type(text.as_slice())?;
        Ok(Field::new("c4_clean", returns, true).into())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let require = terminal_flag("c4_clean", &args.args)?;
        map_strings("c4_clean", &args.args[..1], |s, out| {
            if super::c4_rules(s, require, Some(out)).is_some() {
                out.clear();
            }
            out != s
        })
    }
}
