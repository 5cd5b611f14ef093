//! Vectorised kernels shared by the text UDFs: map every value of a string array (Utf8,
//! LargeUtf8 or Utf8View) to a string, a count or a hash, NULL in → NULL out.
//!
//! String-to-string kernels copy nothing when no value changes: the input array is returned
//! as it is, so a filter stage over clean text costs one read of it.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeBinaryBuilder, GenericStringArray,
    GenericStringBuilder, Int64Array, OffsetSizeTrait, StringArrayType, StringViewArray,
    StringViewBuilder,
};
use datafusion::arrow::array::{ByteView, MAX_INLINE_VIEW_LEN};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ColumnarValue;

/// The single argument of a one-argument UDF as an array, and whether it came in as a scalar.
pub fn single_argument(name: &str, args: &[ColumnarValue]) -> Result<(ArrayRef, bool)> {
    match args {
        [ColumnarValue::Array(a)] => Ok((Arc::clone(a), false)),
        [ColumnarValue::Scalar(s)] => Ok((s.to_array_of_size(1)?, true)),
        _ => exec_err!("{name} takes exactly one argument, got {}", args.len()),
    }
}

/// Wraps a result array the way the argument came in: scalar in, scalar out.
pub fn shape_like_input(out: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
    } else {
        Ok(ColumnarValue::Array(out))
    }
}

/// Applies a string transform to every value. `f(s, out)` either appends the new value to the
/// empty buffer `out` and returns `true`, or returns `false` when `s` is already its own
/// result (then whatever it left in `out` is ignored). The output has the input's string type.
pub fn map_strings(
    name: &str,
    args: &[ColumnarValue],
    f: impl Fn(&str, &mut String) -> bool,
) -> Result<ColumnarValue> {
    let (array, scalar) = single_argument(name, args)?;
    let out = match array.data_type() {
        DataType::Utf8 => map_offsets(array.as_string::<i32>(), &array, f),
        DataType::LargeUtf8 => map_offsets(array.as_string::<i64>(), &array, f),
        DataType::Utf8View => map_views(array.as_string_view(), &array, f),
        DataType::Null => array,
        other => return exec_err!("{name} expects a string, got {other}"),
    };
    shape_like_input(out, scalar)
}

/// Calls `f` with every value of a string array (None for NULL), in order.
pub fn for_each_text(array: &ArrayRef, name: &str, mut f: impl FnMut(Option<&str>)) -> Result<()> {
    fn each<'a>(values: impl StringArrayType<'a>, f: &mut impl FnMut(Option<&str>)) {
        values.iter().for_each(f);
    }
    match array.data_type() {
        DataType::Utf8 => each(array.as_string::<i32>(), &mut f),
        DataType::LargeUtf8 => each(array.as_string::<i64>(), &mut f),
        DataType::Utf8View => each(array.as_string_view(), &mut f),
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        other => return exec_err!("{name} expects a string, got {other}"),
    }
    Ok(())
}

/// Applies a count to every value; the output is Int64.
pub fn map_strings_to_i64(
    name: &str,
    args: &[ColumnarValue],
    f: impl Fn(&str) -> i64,
) -> Result<ColumnarValue> {
    let (array, scalar) = single_argument(name, args)?;
    let out: Int64Array = match array.data_type() {
        DataType::Utf8 => count(array.as_string::<i32>(), f),
        DataType::LargeUtf8 => count(array.as_string::<i64>(), f),
        DataType::Utf8View => count(array.as_string_view(), f),
        DataType::Null => Int64Array::new_null(array.len()),
        other => return exec_err!("{name} expects a string, got {other}"),
    };
    shape_like_input(Arc::new(out), scalar)
}

/// Applies a test to every value; the output is Boolean.
pub fn map_strings_to_bool(
    name: &str,
    args: &[ColumnarValue],
    f: impl Fn(&str) -> bool,
) -> Result<ColumnarValue> {
    let (array, scalar) = single_argument(name, args)?;
    fn test<'a>(values: impl StringArrayType<'a>, f: impl Fn(&str) -> bool) -> BooleanArray {
        values.iter().map(|v| v.map(&f)).collect()
    }
    let out: BooleanArray = match array.data_type() {
        DataType::Utf8 => test(array.as_string::<i32>(), f),
        DataType::LargeUtf8 => test(array.as_string::<i64>(), f),
        DataType::Utf8View => test(array.as_string_view(), f),
        DataType::Null => BooleanArray::new_null(array.len()),
        other => return exec_err!("{name} expects a string, got {other}"),
    };
    shape_like_input(Arc::new(out), scalar)
}

/// Applies a 16-byte digest to every value; the output is FixedSizeBinary(16).
pub fn map_strings_to_digest(
    name: &str,
    args: &[ColumnarValue],
    f: impl Fn(&str) -> [u8; 16],
) -> Result<ColumnarValue> {
    let (array, scalar) = single_argument(name, args)?;
    let out = match array.data_type() {
        DataType::Utf8 => digest(array.as_string::<i32>(), f)?,
        DataType::LargeUtf8 => digest(array.as_string::<i64>(), f)?,
        DataType::Utf8View => digest(array.as_string_view(), f)?,
        DataType::Null => digest(&StringViewArray::new_null(array.len()), f)?,
        other => return exec_err!("{name} expects a string, got {other}"),
    };
    shape_like_input(out, scalar)
}

fn count<'a>(values: impl StringArrayType<'a>, f: impl Fn(&str) -> i64) -> Int64Array {
    values.iter().map(|v| v.map(&f)).collect()
}

fn digest<'a>(values: impl StringArrayType<'a>, f: impl Fn(&str) -> [u8; 16]) -> Result<ArrayRef> {
    let mut builder = FixedSizeBinaryBuilder::with_capacity(values.len(), 16);
    for value in values.iter() {
        match value {
            Some(s) => builder.append_value(f(s))?,
            None => builder.append_null(),
        }
    }
    Ok(Arc::new(builder.finish()))
}

/// Where mapped values go: a builder for the output array that can also keep an input value
/// as it is (cheaply, when the output can share the input's buffers).
trait StringSink {
    /// Appends a new value or a NULL.
    fn push(&mut self, value: Option<&str>);
    /// Appends input value `index`, which is `value`, unchanged.
    fn keep(&mut self, index: usize, value: &str);
    fn finish_array(self) -> ArrayRef;
}

impl<O: OffsetSizeTrait> StringSink for GenericStringBuilder<O> {
    fn push(&mut self, value: Option<&str>) {
        self.append_option(value);
    }
    fn keep(&mut self, _index: usize, value: &str) {
        self.append_value(value);
    }
    fn finish_array(mut self) -> ArrayRef {
        Arc::new(self.finish())
    }
}

/// Capacity of each data block a string view result writes changed values into.
const NEW_BLOCK_BYTES: u32 = 64 << 10;

/// A string view builder whose unchanged values point into the input's buffers: only the
/// values that change are copied.
struct ViewSink<'a> {
    builder: StringViewBuilder,
    input: &'a StringViewArray,
    /// The builder's block index of the input's first data buffer.
    first_block: u32,
}

impl<'a> ViewSink<'a> {
    fn new(input: &'a StringViewArray) -> Self {
        // Blocks of a fixed, small size for the changed values: the default blocks double up to
        // 2 MiB, and the last one of every batch, mostly empty, would be held with the result.
        let mut builder =
            StringViewBuilder::with_capacity(input.len()).with_fixed_block_size(NEW_BLOCK_BYTES);
        let blocks: Vec<u32> = input
            .data_buffers()
            .iter()
            .map(|b| builder.append_block(b.clone()))
            .collect();
        ViewSink {
            builder,
            input,
            first_block: blocks.first().copied().unwrap_or(0),
        }
    }
}

impl StringSink for ViewSink<'_> {
    fn push(&mut self, value: Option<&str>) {
        self.builder.append_option(value);
    }
    fn keep(&mut self, index: usize, value: &str) {
        let view = ByteView::from(self.input.views()[index]);
        if view.length <= MAX_INLINE_VIEW_LEN {
            self.builder.append_value(value);
        } else {
            // SAFETY: the view comes from `self.input`, a valid array whose data buffers were
            // appended to the builder, in order, from block `first_block` on: the block
            // exists and `offset..offset + length` lies inside it on UTF-8 boundaries.
            unsafe {
                self.builder.append_view_unchecked(
                    self.first_block + view.buffer_index,
                    view.offset,
                    view.length,
                )
            };
        }
    }
    fn finish_array(mut self) -> ArrayRef {
        Arc::new(self.builder.finish())
    }
}

fn map_offsets<O: OffsetSizeTrait>(
    values: &GenericStringArray<O>,
    original: &ArrayRef,
    f: impl Fn(&str, &mut String) -> bool,
) -> ArrayRef {
    let sink = || GenericStringBuilder::<O>::with_capacity(values.len(), values.value_data().len());
    map_lazily(values, original, sink, f)
}

fn map_views(
    values: &StringViewArray,
    original: &ArrayRef,
    f: impl Fn(&str, &mut String) -> bool,
) -> ArrayRef {
    map_lazily(values, original, || ViewSink::new(values), f)
}

/// Runs `f` over `values`, starting a new array only at the first value that changes.
fn map_lazily<'a, S: StringSink>(
    values: impl StringArrayType<'a>,
    original: &ArrayRef,
    new_sink: impl FnOnce() -> S,
    f: impl Fn(&str, &mut String) -> bool,
) -> ArrayRef {
    let mut buffer = String::new();
    let mut iter = values.iter().enumerate();
    // Phase 1: nothing has changed yet, nothing is copied.
    let first_change = loop {
        match iter.next() {
            None => return Arc::clone(original),
            Some((i, Some(s))) => {
                buffer.clear();
                if f(s, &mut buffer) {
                    break i;
                }
            }
            Some((_, None)) => {}
        }
    };
    // Phase 2: keep the unchanged prefix, then map the rest.
    let mut sink = new_sink();
    for (i, value) in values.iter().take(first_change).enumerate() {
        match value {
            Some(s) => sink.keep(i, s),
            None => sink.push(None),
        }
    }
    sink.push(Some(&buffer));
    for (i, value) in iter {
        match value {
            Some(s) => {
                buffer.clear();
                if f(s, &mut buffer) {
                    sink.push(Some(&buffer));
                } else {
                    sink.keep(i, s);
                }
            }
            None => sink.push(None),
        }
    }
    sink.finish_array()
}

/// Test helpers: run a UDF over all three string types and over a scalar, and check that the
/// answers agree.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use datafusion::arrow::array::{LargeStringArray, StringArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::common::config::ConfigOptions;
    use datafusion::logical_expr::{ScalarFunctionArgs, ScalarUDFImpl};

    /// Invokes `udf` on `input` as Utf8, LargeUtf8, Utf8View and as scalars, asserts that all
    /// give the same answer, and returns it as Rust values rendered by `render`.
    pub fn run_all_types<T: PartialEq + std::fmt::Debug>(
        udf: &dyn ScalarUDFImpl,
        input: &[Option<&str>],
        render: impl Fn(&ArrayRef, usize) -> Option<T>,
    ) -> Vec<Option<T>> {
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(input.iter().copied().collect::<StringArray>()),
            Arc::new(input.iter().copied().collect::<LargeStringArray>()),
            Arc::new(input.iter().copied().collect::<StringViewArray>()),
        ];
        let mut answers = Vec::new();
        for array in arrays {
            let out = invoke(udf, ColumnarValue::Array(Arc::clone(&array)), array.len());
            let ColumnarValue::Array(out) = out else {
                panic!("array in, scalar out")
            };
            assert_eq!(out.len(), input.len());
            let rendered: Vec<Option<T>> = (0..out.len())
                .map(|i| {
                    if out.is_null(i) {
                        None
                    } else {
                        render(&out, i)
                    }
                })
                .collect();
            answers.push(rendered);
            // The same values one at a time, as scalars.
            for (i, expected) in answers[answers.len() - 1].iter().enumerate() {
                let scalar = ScalarValue::try_from_array(&array, i).unwrap();
                let ColumnarValue::Scalar(out) = invoke(udf, ColumnarValue::Scalar(scalar), 1)
                else {
                    panic!("scalar in, array out")
                };
                let out = out.to_array().unwrap();
                let got = if out.is_null(0) {
                    None
                } else {
                    render(&out, 0)
                };
                assert_eq!(&got, expected, "scalar result differs at {i}");
            }
        }
        assert_eq!(answers[0], answers[1], "Utf8 and LargeUtf8 disagree");
        assert_eq!(answers[0], answers[2], "Utf8 and Utf8View disagree");
        answers.swap_remove(0)
    }

    /// Renders string results.
    pub fn as_text(array: &ArrayRef, i: usize) -> Option<String> {
        use datafusion::arrow::util::display::array_value_to_string;
        Some(array_value_to_string(array, i).unwrap())
    }

    /// Runs a string-to-string UDF over all types; the output type must equal the input type.
    pub fn strings(udf: &dyn ScalarUDFImpl, input: &[Option<&str>]) -> Vec<Option<String>> {
        for t in [DataType::Utf8, DataType::LargeUtf8, DataType::Utf8View] {
            assert_eq!(udf.return_type(std::slice::from_ref(&t)).unwrap(), t);
        }
        run_all_types(udf, input, as_text)
    }

    fn invoke(udf: &dyn ScalarUDFImpl, arg: ColumnarValue, rows: usize) -> ColumnarValue {
        let arg_type = arg.data_type();
        let return_type = udf.return_type(std::slice::from_ref(&arg_type)).unwrap();
        udf.invoke_with_args(ScalarFunctionArgs {
            args: vec![arg],
            arg_fields: vec![Arc::new(Field::new("a", arg_type, true))],
            number_rows: rows,
            return_field: Arc::new(Field::new("out", return_type, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    fn upper_if_lower(s: &str, out: &mut String) -> bool {
        if s.chars().any(char::is_lowercase) {
            out.push_str(&s.to_uppercase());
            true
        } else {
            false
        }
    }

    #[test]
    fn unchanged_arrays_are_returned_without_copying() {
        let array: ArrayRef = Arc::new(StringArray::from(vec![Some("A"), None, Some("B")]));
        let ColumnarValue::Array(out) = map_strings(
            "t",
            &[ColumnarValue::Array(Arc::clone(&array))],
            upper_if_lower,
        )
        .unwrap() else {
            unreachable!()
        };
        assert!(Arc::ptr_eq(&array, &out));
    }

    #[test]
    fn the_unchanged_prefix_is_kept() {
        let array: ArrayRef = Arc::new(StringArray::from(vec![
            Some("A"),
            None,
            Some("b"),
            Some("C"),
            None,
            Some("d"),
        ]));
        let ColumnarValue::Array(out) =
            map_strings("t", &[ColumnarValue::Array(array)], upper_if_lower).unwrap()
        else {
            unreachable!()
        };
        let out = out.as_string::<i32>();
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            vec![Some("A"), None, Some("B"), Some("C"), None, Some("D")]
        );
    }

    #[test]
    fn unchanged_views_share_the_input_buffers() {
        let long = "a value longer than twelve bytes";
        let array: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some(long),
            Some("short"),
            Some("make me upper case please"),
            None,
            Some("SHORT"),
            Some(long),
        ]));
        let ColumnarValue::Array(out) = map_strings(
            "t",
            &[ColumnarValue::Array(Arc::clone(&array))],
            |s, out| {
                if s.contains("upper") {
                    out.push_str(&s.to_uppercase());
                    true
                } else {
                    false
                }
            },
        )
        .unwrap() else {
            unreachable!()
        };
        let out = out.as_string_view();
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            [
                Some(long),
                Some("short"),
                Some("MAKE ME UPPER CASE PLEASE"),
                None,
                Some("SHORT"),
                Some(long)
            ]
        );
        let input = array.as_string_view();
        assert!(out.data_buffers()[0].ptr_eq(&input.data_buffers()[0]));
    }

    #[test]
    fn non_strings_are_an_error() {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        assert!(map_strings("t", &[ColumnarValue::Array(array)], upper_if_lower).is_err());
    }
}
