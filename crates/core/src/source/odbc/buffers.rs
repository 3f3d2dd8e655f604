//! Sizing the transit buffers of a columnar fetch from what the driver declares and what the
//! length probe measured (pure: no driver calls).

use arrow::datatypes::DataType;
use arrow_odbc::odbc_api;
use arrow_odbc::odbc_api::buffers::BufferDesc;

use super::options::{OdbcText, LONG_VALUE_BYTES};
use crate::source::value_limits::{ValueKind, ValueLimits};

/// The largest text (UTF-8 bytes, or UTF-16 units when wide) and binary (bytes) transit
/// buffer per value: arrow-odbc gives each column its declared size capped by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    pub text: usize,
    pub binary: usize,
}

impl BufferSizes {
    /// Buffers as large as the limits allow (long columns not measured).
    pub(super) fn at_limits(limits: &ValueLimits) -> BufferSizes {
        BufferSizes {
            text: limits.limit(ValueKind::Text),
            binary: limits.limit(ValueKind::Binary),
        }
    }
}

/// What the driver declares for one result column and, for long columns, the longest value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredColumn {
    /// Text or binary; `None` for fixed-size columns (their buffers do not depend on lengths).
    pub kind: Option<ValueKind>,
    /// The buffer the declared type needs per value, in the unit of [`BufferSizes`]; `None`
    /// when the driver declares no length.
    pub declared: Option<usize>,
    /// A national (`W...`) SQL type: lengths measured in bytes are twice the UTF-16 units.
    pub national: bool,
    pub longest: Longest,
}

/// The measured longest value of a long column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Longest {
    /// Declared short enough to be buffered at its declared size.
    NotLong,
    /// Long, not measured: buffered at the limit.
    Unmeasured,
    /// Long, and its longest value in the partition (0: no value or only NULLs).
    Measured(usize),
}

impl DeclaredColumn {
    /// Reads the declaration of a column of Arrow type `data_type` from the driver's SQL type.
    pub fn from_sql_type(
        data_type: &DataType,
        sql_type: odbc_api::DataType,
        display_size: Option<usize>,
        text: OdbcText,
    ) -> DeclaredColumn {
        let national = matches!(
            sql_type,
            odbc_api::DataType::WVarchar { .. }
                | odbc_api::DataType::WChar { .. }
                | odbc_api::DataType::WLongVarchar { .. }
        );
        let (kind, declared) = match data_type {
            DataType::Utf8 => {
                let len = match text {
                    OdbcText::Narrow => sql_type.utf8_len(),
                    OdbcText::Wide => sql_type.utf16_len(),
                };
                (Some(ValueKind::Text), len.map(|n| n.get()).or(display_size))
            }
            DataType::Binary => (
                Some(ValueKind::Binary),
                sql_type.column_size().map(|n| n.get()),
            ),
            _ => (None, None),
        };
        let longest = match (kind, declared) {
            (None, _) => Longest::NotLong,
            (Some(_), Some(n)) if n <= LONG_VALUE_BYTES => Longest::NotLong,
            _ => Longest::Unmeasured,
        };
        DeclaredColumn {
            kind,
            declared,
            national,
            longest,
        }
    }

    pub(super) fn is_long(&self) -> bool {
        self.longest != Longest::NotLong
    }

    /// Records a measured length, in bytes as the probe reports it: UTF-8 bytes of text (an
    /// upper bound of its UTF-16 units too: no character takes more units than UTF-8 bytes) or
    /// bytes of binary. `utf16_bytes`: the probe counted UTF-16 bytes (SQL Server's `DATALENGTH`
    /// of a national column), two per unit.
    pub(super) fn measured(
        self,
        length: Option<usize>,
        text: OdbcText,
        utf16_bytes: bool,
    ) -> DeclaredColumn {
        let length = length.unwrap_or(0);
        let length = if utf16_bytes
            && self.national
            && text == OdbcText::Wide
            && self.kind == Some(ValueKind::Text)
        {
            length.div_ceil(2)
        } else {
            length
        };
        DeclaredColumn {
            longest: Longest::Measured(length),
            ..self
        }
    }
}

/// Sizes the transit buffers from the declared and measured lengths: each kind's buffer is as
/// large as its largest need, so every declared-short column keeps its declared size and every
/// long column holds its longest value. A measured value above the limit is an error
/// `(column index, kind, length)`.
pub fn plan_buffers(
    columns: &[DeclaredColumn],
    limits: &ValueLimits,
) -> Result<BufferSizes, (usize, ValueKind, usize)> {
    let mut sizes = BufferSizes { text: 1, binary: 1 };
    for (index, column) in columns.iter().enumerate() {
        let Some(kind) = column.kind else {
            continue;
        };
        let limit = limits.limit(kind);
        let need = match column.longest {
            Longest::NotLong => column.declared.unwrap_or(limit).min(limit),
            Longest::Unmeasured => limit,
            Longest::Measured(length) if length > limit => return Err((index, kind, length)),
            Longest::Measured(length) => length,
        };
        match kind {
            ValueKind::Text => sizes.text = sizes.text.max(need),
            ValueKind::Binary => sizes.binary = sizes.binary.max(need),
        }
    }
    Ok(sizes)
}

/// The buffer arrow-odbc binds for a column with these sizes: wide (`SQL_C_WCHAR`) or narrow
/// text, or binary, as long as the declaration but at most the planned size.
pub fn transit_buffer(
    column: &DeclaredColumn,
    sizes: BufferSizes,
    text: OdbcText,
) -> Option<BufferDesc> {
    let capped = |max: usize| column.declared.map_or(max, |declared| declared.min(max));
    Some(match column.kind? {
        ValueKind::Text => match text {
            OdbcText::Narrow => BufferDesc::Text {
                max_str_len: capped(sizes.text),
            },
            OdbcText::Wide => BufferDesc::WText {
                max_str_len: capped(sizes.text),
            },
        },
        ValueKind::Binary => BufferDesc::Binary {
            max_bytes: capped(sizes.binary),
        },
    })
}

#[cfg(test)]
mod tests {
    use arrow_odbc::TextEncoding;
    use config_schema::SourcePlatform;

    use super::*;
    use crate::source::odbc::options::OdbcReadOptions;

    fn nz(n: usize) -> Option<std::num::NonZeroUsize> {
        std::num::NonZeroUsize::new(n)
    }

    #[test]
    fn sql_server_text_is_fetched_wide_so_no_locale_can_touch_it() {
        let options = OdbcReadOptions::for_platform(SourcePlatform::Sqlserver);
        assert_eq!(options.text, OdbcText::Wide);
        assert_eq!(options.text.encoding(), TextEncoding::Utf16);
        // nvarchar(50) and nvarchar(max) as ODBC Driver 18 describes them; DATALENGTH of the
        // latter counts two bytes per UTF-16 unit.
        let nvarchar = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::WVarchar { length: nz(50) },
            None,
            options.text,
        );
        let nvarchar_max = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::WLongVarchar { length: None },
            None,
            options.text,
        )
        .measured(Some(600), options.text, true);
        let sizes = plan_buffers(&[nvarchar, nvarchar_max], &options.limits()).expect("fits");
        assert_eq!(
            transit_buffer(&nvarchar, sizes, options.text),
            Some(BufferDesc::WText { max_str_len: 100 }),
            "SQL_C_WCHAR, two UTF-16 units per character"
        );
        assert_eq!(
            transit_buffer(&nvarchar_max, sizes, options.text),
            Some(BufferDesc::WText { max_str_len: 300 })
        );
        // Every other platform reads UTF-8 (its drivers deliver UTF-8 whatever the locale).
        for platform in [
            SourcePlatform::Postgresql,
            SourcePlatform::Redshift,
            SourcePlatform::Teradata,
            SourcePlatform::Sqlite,
        ] {
            assert_eq!(
                OdbcText::for_platform(platform),
                OdbcText::Narrow,
                "{platform}"
            );
        }
        let narrow = DeclaredColumn::from_sql_type(
            &DataType::Utf8,
            odbc_api::DataType::Varchar { length: nz(50) },
            None,
            OdbcText::Narrow,
        );
        assert_eq!(
            transit_buffer(
                &narrow,
                BufferSizes {
                    text: 200,
                    binary: 1
                },
                OdbcText::Narrow
            ),
            Some(BufferDesc::Text { max_str_len: 200 })
        );
    }

    #[test]
    fn long_columns_are_buffered_at_their_measured_length() {
        let limits = ValueLimits::default();
        let text = |sql_type| {
            DeclaredColumn::from_sql_type(&DataType::Utf8, sql_type, None, OdbcText::Narrow)
        };
        // psqlODBC: `text` as LongVarchar(MaxLongVarcharSize), varchar(20), bytea unbounded.
        let long_text = text(odbc_api::DataType::LongVarchar {
            length: nz(1 << 20),
        });
        assert_eq!(long_text.longest, Longest::Unmeasured);
        let short = text(odbc_api::DataType::Varchar { length: nz(20) });
        assert_eq!(short.longest, Longest::NotLong);
        let bytea = DeclaredColumn::from_sql_type(
            &DataType::Binary,
            odbc_api::DataType::LongVarbinary { length: None },
            None,
            OdbcText::Narrow,
        );
        let id = DeclaredColumn::from_sql_type(
            &DataType::Int64,
            odbc_api::DataType::BigInt,
            None,
            OdbcText::Narrow,
        );
        let columns = [
            id,
            short,
            long_text.measured(Some(37), OdbcText::Narrow, false),
            bytea.measured(None, OdbcText::Narrow, false),
        ];
        assert_eq!(
            plan_buffers(&columns, &limits),
            Ok(BufferSizes {
                text: 80,
                binary: 1
            }),
            "the bounded varchar(20) needs 80 bytes, more than the longest text (37)"
        );
        // Unmeasured long columns take the limit; measured ones above it are refused.
        assert_eq!(
            plan_buffers(&[long_text], &ValueLimits::new(4096)),
            Ok(BufferSizes {
                text: 4096,
                binary: 1
            })
        );
        let too_long = [long_text.measured(Some(5000), OdbcText::Narrow, false)];
        assert_eq!(
            plan_buffers(&too_long, &ValueLimits::new(4096)),
            Err((0, ValueKind::Text, 5000))
        );
        let huge_binary = [bytea.measured(Some(9 << 20), OdbcText::Narrow, false)];
        assert_eq!(
            plan_buffers(&huge_binary, &limits),
            Err((0, ValueKind::Binary, 9 << 20)),
            "Snowflake's 8 MiB BINARY limit applies even under a 16 MiB cap"
        );
    }
}
