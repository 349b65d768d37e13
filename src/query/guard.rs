//! What an ad-hoc query may do, checked and rewritten before the engine sees it.
//!
//! - **Only l2lens's tables.** A table function (`read_csv('…')`, `read_parquet('…')`, …) would
//!   read any file the user running l2lens can read, from a query file someone else wrote: it
//!   is refused, so a query reads the registered tables and nothing else.
//! - **One query.** Exactly one `SELECT` (or `WITH … SELECT`) statement; `CREATE`, `DROP`,
//!   `DELETE` and the rest are refused.
//! - **Long `OR` chains of equalities** (`id = 'a' OR id = 'b' OR …`, what a spreadsheet
//!   export of ids becomes) are rewritten to `id IN ('a', 'b', …)`: the engine plans an `OR`
//!   chain as one nested level per term, which at thousands of terms takes minutes and
//!   gigabytes, while an `IN` list is one level. Equal in SQL's three-valued logic: `x IN (…)`
//!   is defined as the `OR` of the equalities.
//! - **Nesting is bounded.** After the rewrite, an expression nested deeper than
//!   [`MAX_DEPTH`] levels is refused with a message saying how to write it instead.

use std::ops::ControlFlow;

use anyhow::{Result, bail};
use sqlparser::ast::{
    BinaryOperator, Expr, Statement, TableFactor, Value, Visit, VisitMut, Visitor, VisitorMut,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserOptions};

/// The deepest expression a query may nest, after the rewrite. A chain of this many `OR`/`AND`
/// terms still plans in well under a second.
pub const MAX_DEPTH: usize = 500;

/// The query to run: `sql` itself, or the same query with its `OR` chains of equalities
/// rewritten. Errors say what is refused and why.
pub fn prepare(sql: &str, source: &str) -> Result<String> {
    // The engine's own dialect and options, so that what passes here parses there.
    let parsed = Parser::new(&GenericDialect)
        .with_options(ParserOptions {
            trailing_commas: true,
            ..Default::default()
        })
        .with_recursion_limit(MAX_DEPTH)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements());
    let mut statements = match parsed {
        Ok(statements) => statements,
        // The engine reports syntax errors in its own words.
        Err(sqlparser::parser::ParserError::RecursionLimitExceeded) => bail!(
            "query {source} nests more than {MAX_DEPTH} levels of parentheses or subqueries; \
             l2lens query accepts at most {MAX_DEPTH}"
        ),
        Err(_) => return Ok(sql.to_owned()),
    };
    let [statement] = statements.as_mut_slice() else {
        bail!(
            "query {source} has {} statements; l2lens query runs exactly one SELECT",
            statements.len()
        );
    };
    if !matches!(statement, Statement::Query(_)) {
        bail!(
            "query {source} is not a SELECT; l2lens query only reads its tables (no CREATE, \
             DROP, DELETE, …)"
        );
    }
    if let ControlFlow::Break(name) = Visit::visit(&*statement, &mut Relations) {
        bail!(
            "query {source} calls the table function {name}: l2lens query reads only its own \
             tables (conversations, messages, assignments, handoffs, templates, lanes, facts, \
             metrics, board, text_findings, text_entries), never files; load the file with \
             `l2lens ingest` instead"
        );
    }
    let mut rewrite = OrChains { rewritten: false };
    let _ = VisitMut::visit(statement, &mut rewrite);
    let mut depth = Depth::default();
    let _ = Visit::visit(&*statement, &mut depth);
    if depth.max > MAX_DEPTH {
        bail!(
            "query {source} nests expressions {} levels deep (a chain of that many OR/AND \
             terms?); l2lens query accepts at most {MAX_DEPTH}: write a list of values as \
             `column IN (…)`, or join a table of them",
            depth.max
        );
    }
    Ok(if rewrite.rewritten {
        statement.to_string()
    } else {
        sql.to_owned()
    })
}

/// Breaks at the first table function (a relation with arguments), with its name.
struct Relations;

impl Visitor for Relations {
    type Break = String;

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => ControlFlow::Break(name.to_string()),
            TableFactor::TableFunction { expr, .. } => ControlFlow::Break(expr.to_string()),
            TableFactor::Function { name, .. } => ControlFlow::Break(name.to_string()),
            _ => ControlFlow::Continue(()),
        }
    }
}

/// The deepest expression nesting.
#[derive(Default)]
struct Depth {
    now: usize,
    max: usize,
}

impl Visitor for Depth {
    type Break = ();

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.now += 1;
        self.max = self.max.max(self.now);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<()> {
        self.now -= 1;
        ControlFlow::Continue(())
    }
}

/// Rewrites each `OR` chain, outermost first: the equalities `e = literal` (either side, in
/// parentheses or not) and the `e IN (literals)` of one expression `e` and one kind of literal
/// become one `e IN (…)` where the first of them stood; the other terms keep their order.
struct OrChains {
    rewritten: bool,
}

impl VisitorMut for OrChains {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if !matches!(
            expr,
            Expr::BinaryOp {
                op: BinaryOperator::Or,
                ..
            }
        ) {
            return ControlFlow::Continue(());
        }
        let terms = or_terms(std::mem::replace(expr, Expr::value(Value::Null)));
        let before = terms.len();
        let merged = merge(terms);
        if merged.len() < before {
            self.rewritten = true;
        }
        *expr = merged
            .into_iter()
            .reduce(|left, right| Expr::BinaryOp {
                left: Box::new(left),
                op: BinaryOperator::Or,
                right: Box::new(right),
            })
            .expect("an OR has terms");
        ControlFlow::Continue(())
    }
}

/// The terms of an `OR` chain in order, without recursion (a chain may be thousands deep).
fn or_terms(expr: Expr) -> Vec<Expr> {
    let mut terms = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                stack.push(*right);
                stack.push(*left);
            }
            Expr::Nested(inner)
                if matches!(
                    *inner,
                    Expr::BinaryOp {
                        op: BinaryOperator::Or,
                        ..
                    }
                ) =>
            {
                stack.push(*inner);
            }
            other => terms.push(other),
        }
    }
    terms
}

/// The compared expression and the literals of a term that is `e = literal`, `literal = e` or
/// `e IN (literals)` with literals of one kind and no NULL.
fn membership(term: &Expr) -> Option<(&Expr, Vec<&Value>)> {
    let term = unnest(term);
    let (subject, values) = match term {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => match (literal(left), literal(right)) {
            (None, Some(v)) => (unnest(left), vec![v]),
            (Some(v), None) => (unnest(right), vec![v]),
            _ => return None,
        },
        Expr::InList {
            expr,
            list,
            negated: false,
        } => (
            unnest(expr),
            list.iter().map(literal).collect::<Option<Vec<_>>>()?,
        ),
        _ => return None,
    };
    let kind = std::mem::discriminant(*values.first()?);
    values
        .iter()
        .all(|v| std::mem::discriminant(*v) == kind && !matches!(v, Value::Null))
        .then_some((subject, values))
}

fn unnest(mut expr: &Expr) -> &Expr {
    while let Expr::Nested(inner) = expr {
        expr = inner;
    }
    expr
}

fn literal(expr: &Expr) -> Option<&Value> {
    match unnest(expr) {
        Expr::Value(v) => Some(&v.value),
        _ => None,
    }
}

/// Merges the membership terms of one subject and literal kind into the first of them.
fn merge(terms: Vec<Expr>) -> Vec<Expr> {
    // (position in `out`, subject, literal kind, literals)
    let mut groups: Vec<(usize, Expr, std::mem::Discriminant<Value>, Vec<Expr>)> = Vec::new();
    let mut out: Vec<Option<Expr>> = Vec::with_capacity(terms.len());
    for term in terms {
        let Some((subject, values)) = membership(&term) else {
            out.push(Some(term));
            continue;
        };
        let kind = std::mem::discriminant(values[0]);
        let literals = values
            .into_iter()
            .map(|v| Expr::value(v.clone()))
            .collect::<Vec<_>>();
        match groups
            .iter_mut()
            .find(|(_, s, k, _)| *k == kind && s == subject)
        {
            Some((_, _, _, list)) => list.extend(literals),
            None => {
                groups.push((out.len(), subject.clone(), kind, literals));
                out.push(None);
            }
        }
    }
    for (at, subject, _, list) in groups {
        out[at] = Some(if list.len() == 1 {
            Expr::BinaryOp {
                left: Box::new(subject),
                op: BinaryOperator::Eq,
                right: Box::new(list.into_iter().next().expect("one literal")),
            }
        } else {
            Expr::InList {
                expr: Box::new(subject),
                list,
                negated: false,
            }
        });
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(sql: &str) -> String {
        prepare(sql, "test").unwrap()
    }

    fn refused(sql: &str) -> String {
        prepare(sql, "test").unwrap_err().to_string()
    }

    #[test]
    fn an_or_chain_of_equalities_becomes_one_in_list() {
        assert_eq!(
            ok(
                "SELECT * FROM facts WHERE conversation_id = 'a' OR (conversation_id = 'b') \
                OR 'c' = conversation_id"
            ),
            "SELECT * FROM facts WHERE conversation_id IN ('a', 'b', 'c')"
        );
        // Other terms stay, in order; each subject and literal kind has its own list.
        assert_eq!(
            ok("SELECT * FROM facts WHERE lane = 'x' OR n > 3 OR lane = 'y' OR n = 1 OR n = 2"),
            "SELECT * FROM facts WHERE lane IN ('x', 'y') OR n > 3 OR n IN (1, 2)"
        );
        // Nothing to merge: the text is passed as written.
        let plain = "select a from facts where a = 1 or b = 2";
        assert_eq!(ok(plain), plain);
        // NULL and mixed kinds are not merged (NULL = x is never true; an IN list has one type).
        assert_eq!(
            ok("SELECT a FROM facts WHERE a = 1 OR a = 'one'"),
            "SELECT a FROM facts WHERE a = 1 OR a = 'one'"
        );
    }

    #[test]
    fn thousands_of_or_terms_become_one_level() {
        let terms: Vec<String> = (0..5_000).map(|i| format!("id = 'c{i}'")).collect();
        let sql = format!("SELECT id FROM facts WHERE {}", terms.join(" OR "));
        let out = std::thread::Builder::new()
            .stack_size(1 << 28)
            .spawn(move || prepare(&sql, "test").unwrap())
            .unwrap()
            .join()
            .unwrap();
        assert!(
            out.starts_with("SELECT id FROM facts WHERE id IN ('c0', 'c1'"),
            "{out}"
        );
        assert!(!out.contains(" OR "));
    }

    #[test]
    fn a_deep_chain_that_cannot_be_merged_is_refused_with_how_to_write_it() {
        let terms: Vec<String> = (0..1_000).map(|i| format!("c{i} = {i}")).collect();
        let sql = format!("SELECT * FROM facts WHERE {}", terms.join(" OR "));
        let message = std::thread::Builder::new()
            .stack_size(1 << 28)
            .spawn(move || refused(&sql))
            .unwrap()
            .join()
            .unwrap();
        assert!(message.contains("levels deep"), "{message}");
        assert!(message.contains("IN ("), "{message}");
    }

    #[test]
    fn files_and_statements_other_than_one_select_are_refused() {
        for sql in [
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM facts JOIN read_parquet('x.parquet') p ON true",
            "WITH x AS (SELECT * FROM read_json('y')) SELECT * FROM x",
        ] {
            assert!(refused(sql).contains("never files"), "{sql}");
        }
        assert!(refused("DROP TABLE facts").contains("not a SELECT"));
        assert!(refused("CREATE TABLE t AS SELECT 1").contains("not a SELECT"));
        assert!(refused("SELECT 1; SELECT 2").contains("2 statements"));
        // A syntax error is left to the engine, which names it.
        assert_eq!(ok("SELEC 1"), "SELEC 1");
    }
}
