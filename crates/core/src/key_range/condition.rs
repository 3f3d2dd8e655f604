//! Partition predicates as a small boolean tree over the key columns.
//!
//! A plan orders key tuples lexicographically, each column ordered the way the source's plain
//! `ORDER BY col` orders it: PostgreSQL and Redshift put NULL after every value, SQL Server,
//! Teradata and SQLite put it before. Under that total order every tuple (NULLs included) has
//! exactly one place, so ranges of tuples split the table without gaps or overlaps.
//!
//! A range bound becomes an OR-chain: `(c1, c2) >= (v1, v2)` is
//! `c1 > v1 OR (c1 = v1 AND c2 >= v2)`, where each column comparison spells out where NULL
//! sorts (`c > v` becomes `(c > v OR c IS NULL)` when NULL sorts last). The tree never uses NOT,
//! so SQL's UNKNOWN behaves like FALSE and the same tree evaluated here in Rust (with SQL's
//! three-valued logic, see [`Condition::eval`]) is what the property tests check.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::key_value::KeyValue;

/// Where NULL sorts in the source's default ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NullOrder {
    First,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl CmpOp {
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Eq => "=",
            CmpOp::Ge => ">=",
            CmpOp::Gt => ">",
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
            CmpOp::Eq => ordering == Ordering::Equal,
            CmpOp::Ge => ordering != Ordering::Less,
            CmpOp::Gt => ordering == Ordering::Greater,
        }
    }
}

/// A predicate over key columns, referenced by their position in the key.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    True,
    False,
    /// `key[column] op value`; the value is never NULL.
    Cmp {
        column: usize,
        op: CmpOp,
        value: KeyValue,
    },
    IsNull(usize),
    IsNotNull(usize),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

/// One side of a key range: the tuple and whether the tuple itself is inside the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    pub values: Vec<KeyValue>,
    pub inclusive: bool,
}

/// What the planner knows about each key column when it builds predicates.
#[derive(Debug, Clone, Copy)]
pub struct KeyOrder {
    pub nulls: NullOrder,
    /// Per key column: may the column hold NULL? Non-nullable columns get simpler predicates.
    pub nullable: bool,
}

impl Condition {
    fn and(parts: Vec<Condition>) -> Condition {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Condition::True => {}
                Condition::False => return Condition::False,
                Condition::And(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Condition::True,
            1 => kept.pop().expect("one element"),
            _ => Condition::And(kept),
        }
    }

    fn or(parts: Vec<Condition>) -> Condition {
        let mut kept = Vec::new();
        for part in parts {
            match part {
                Condition::False => {}
                Condition::True => return Condition::True,
                Condition::Or(inner) => kept.extend(inner),
                other => kept.push(other),
            }
        }
        match kept.len() {
            0 => Condition::False,
            1 => kept.pop().expect("one element"),
            _ => Condition::Or(kept),
        }
    }

    /// The rows of the range `lower .. upper` (either side may be open).
    ///
    /// For multi-column keys the first column's own range (`c1 >= v1`, `c1 <= u1`) is added in
    /// front when it is implied: it is redundant for the result but lets every source use an
    /// index range scan on the leading key column instead of evaluating OR-chains over the
    /// whole index.
    pub fn range(lower: Option<&Bound>, upper: Option<&Bound>, keys: &[KeyOrder]) -> Condition {
        let mut parts = Vec::new();
        if keys.len() > 1 {
            parts.extend(lower.and_then(|b| leading_range(b, keys[0], CmpOp::Ge)));
            parts.extend(upper.and_then(|b| leading_range(b, keys[0], CmpOp::Le)));
        }
        parts.push(lower.map_or(Condition::True, |b| tuple_above(b, keys)));
        parts.push(upper.map_or(Condition::True, |b| tuple_below(b, keys)));
        Condition::and(parts)
    }

    /// SQL's three-valued evaluation: `None` is UNKNOWN. A WHERE clause keeps a row only for
    /// `Some(true)`.
    pub fn eval(&self, row: &[KeyValue]) -> Option<bool> {
        match self {
            Condition::True => Some(true),
            Condition::False => Some(false),
            Condition::Cmp { column, op, value } => row[*column]
                .sql_cmp(value)
                .map(|ordering| op.holds(ordering)),
            Condition::IsNull(column) => Some(row[*column].is_null()),
            Condition::IsNotNull(column) => Some(!row[*column].is_null()),
            Condition::And(parts) => {
                let mut result = Some(true);
                for part in parts {
                    match part.eval(row) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Condition::Or(parts) => {
                let mut result = Some(false);
                for part in parts {
                    match part.eval(row) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
        }
    }
}

/// `c1 >= v1` (or `c1 <= u1`) implied by a tuple bound, when no NULL in column 1 can sit on
/// the far side: the bound's first value is not NULL and NULL sorts away from the bound (first
/// for a lower bound, last for an upper bound) or the column holds no NULL.
fn leading_range(bound: &Bound, key: KeyOrder, op: CmpOp) -> Option<Condition> {
    let value = bound.values.first()?;
    let nulls_away = match op {
        CmpOp::Ge => key.nulls == NullOrder::First,
        _ => key.nulls == NullOrder::Last,
    };
    (!value.is_null() && (nulls_away || !key.nullable)).then(|| cmp(0, op, value))
}

/// Tuple strictly after `value` in column `i` (NULL-aware).
fn column_gt(i: usize, value: &KeyValue, key: KeyOrder) -> Condition {
    match (value.is_null(), key.nulls) {
        // Nothing sorts after a trailing NULL; everything non-null sorts after a leading NULL.
        (true, NullOrder::Last) => Condition::False,
        (true, NullOrder::First) => Condition::IsNotNull(i),
        (false, NullOrder::Last) if key.nullable => {
            Condition::or(vec![cmp(i, CmpOp::Gt, value), Condition::IsNull(i)])
        }
        (false, _) => cmp(i, CmpOp::Gt, value),
    }
}

/// Tuple strictly before `value` in column `i` (NULL-aware).
fn column_lt(i: usize, value: &KeyValue, key: KeyOrder) -> Condition {
    match (value.is_null(), key.nulls) {
        (true, NullOrder::First) => Condition::False,
        (true, NullOrder::Last) => Condition::IsNotNull(i),
        (false, NullOrder::First) if key.nullable => {
            Condition::or(vec![cmp(i, CmpOp::Lt, value), Condition::IsNull(i)])
        }
        (false, _) => cmp(i, CmpOp::Lt, value),
    }
}

fn column_eq(i: usize, value: &KeyValue) -> Condition {
    if value.is_null() {
        Condition::IsNull(i)
    } else {
        cmp(i, CmpOp::Eq, value)
    }
}

fn cmp(column: usize, op: CmpOp, value: &KeyValue) -> Condition {
    Condition::Cmp {
        column,
        op,
        value: value.clone(),
    }
}

/// `key > bound` (or `>=` when inclusive), lexicographic from column `i` on.
fn tuple_above(bound: &Bound, keys: &[KeyOrder]) -> Condition {
    lexicographic(bound, keys, 0, Direction::Above)
}

fn tuple_below(bound: &Bound, keys: &[KeyOrder]) -> Condition {
    lexicographic(bound, keys, 0, Direction::Below)
}

#[derive(Clone, Copy)]
enum Direction {
    Above,
    Below,
}

fn lexicographic(bound: &Bound, keys: &[KeyOrder], i: usize, direction: Direction) -> Condition {
    if i == bound.values.len() {
        // All columns equal: the bound tuple itself.
        return if bound.inclusive {
            Condition::True
        } else {
            Condition::False
        };
    }
    let value = &bound.values[i];
    let key = keys[i];
    let last = i + 1 == bound.values.len();
    // On the last column use `>=`/`<=` directly when the value is not NULL: shorter SQL, same
    // rows (for a NULL value the IS NULL / IS NOT NULL branches below are required).
    if last && bound.inclusive && !value.is_null() {
        let (op, strict) = match direction {
            Direction::Above => (CmpOp::Ge, column_gt(i, value, key)),
            Direction::Below => (CmpOp::Le, column_lt(i, value, key)),
        };
        return match strict {
            Condition::Or(mut parts) => {
                // `(c > v OR c IS NULL)` widened to `(c >= v OR c IS NULL)`.
                parts[0] = cmp(i, op, value);
                Condition::or(parts)
            }
            _ => cmp(i, op, value),
        };
    }
    let strict = match direction {
        Direction::Above => column_gt(i, value, key),
        Direction::Below => column_lt(i, value, key),
    };
    let rest = lexicographic(bound, keys, i + 1, direction);
    let tie = Condition::and(vec![column_eq(i, value), rest]);
    Condition::or(vec![strict, tie])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize, nulls: NullOrder) -> Vec<KeyOrder> {
        vec![
            KeyOrder {
                nulls,
                nullable: true
            };
            n
        ]
    }

    #[test]
    fn single_column_range_is_half_open() {
        let lower = Bound {
            values: vec![KeyValue::Int(10)],
            inclusive: true,
        };
        let upper = Bound {
            values: vec![KeyValue::Int(20)],
            inclusive: false,
        };
        let c = Condition::range(Some(&lower), Some(&upper), &keys(1, NullOrder::Last));
        assert_eq!(c.eval(&[KeyValue::Int(10)]), Some(true));
        assert_eq!(c.eval(&[KeyValue::Int(20)]), Some(false));
        assert_ne!(c.eval(&[KeyValue::Null]), Some(true));
    }

    #[test]
    fn null_sorts_where_the_platform_puts_it() {
        let above_5 = Bound {
            values: vec![KeyValue::Int(5)],
            inclusive: false,
        };
        let last = Condition::range(Some(&above_5), None, &keys(1, NullOrder::Last));
        let first = Condition::range(Some(&above_5), None, &keys(1, NullOrder::First));
        assert_eq!(last.eval(&[KeyValue::Null]), Some(true));
        assert_ne!(first.eval(&[KeyValue::Null]), Some(true));
    }
}
