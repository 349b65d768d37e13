use super::*;

/// Rows of two periods (and rows without one), three groups, values with nulls.
fn base() -> LazyFrame {
    let n = 500;
    let period: Vec<Option<i32>> = (0..n)
        .map(|i| (i % 37 != 0).then_some(20_000 + 7 * (i % 2)))
        .collect();
    let group: Vec<&str> = (0..n).map(|i| ["a", "b", "ALL"][i as usize % 3]).collect();
    let value: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 11 != 0).then_some(((i * 7919) % 1000) as f64 / 8.0))
        .collect();
    let flag: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    // Keys with gaps, as conversations filtered out leave.
    let key: Vec<u32> = (0..n).map(|i| 3 * i as u32).collect();
    df!("key" => key, "period_start" => period, "group" => group, "x" => value, "flag" => flag)
        .expect("a frame")
        .lazy()
        .with_column(col("period_start").cast(DataType::Date))
}

fn values() -> Vec<(&'static str, Agg)> {
    vec![
        ("mean", mean(col("x"))),
        ("sum", sum(col("x"))),
        ("median", median(col("x"))),
        ("p90", p90(col("x"))),
        ("share", share("flag")),
    ]
}

/// The same long rows from polars' own group-by.
fn expected(by: Dimension) -> DataFrame {
    let aggs = |base: LazyFrame, keys: Vec<Expr>| {
        let values = values();
        let parts: Vec<LazyFrame> = values
            .into_iter()
            .map(|(id, agg)| {
                let e = agg.value.cast(DataType::Float64);
                let value = match agg.kind {
                    Kind::Mean => e.mean(),
                    Kind::Sum => e.sum(),
                    Kind::Quantile(q) => e.quantile(lit(q), QuantileMethod::Linear),
                    Kind::Ratio => e.sum() / agg.over.expect("a ratio's denominator").sum(),
                };
                base.clone()
                    .group_by(keys.clone())
                    .agg([
                        value.alias("value"),
                        len().cast(DataType::UInt64).alias("n"),
                    ])
                    .with_column(lit(id).alias("metric"))
            })
            .collect();
        concat(parts, UnionArgs::default()).expect("one schema")
    };
    let order = [
        col("period_start"),
        col("group"),
        col("metric"),
        col("value"),
        col("n"),
    ];
    let all = aggs(base(), vec![col("period_start")])
        .with_column(lit(ALL).alias("group"))
        .select(order.clone());
    let mut parts = vec![all];
    if by != Dimension::None {
        parts.push(aggs(base(), vec![col("period_start"), col("group")]).select(order));
    }
    sorted(concat(parts, UnionArgs::default()).expect("one schema"))
}

fn sorted(frame: LazyFrame) -> DataFrame {
    frame
        .select([
            col("period_start"),
            col("group"),
            col("metric"),
            col("value"),
            col("n"),
        ])
        .sort(
            ["period_start", "group", "metric", "n"],
            SortMultipleOptions::default(),
        )
        .collect()
        .expect("collects")
}

fn assert_close(got: &DataFrame, want: &DataFrame) {
    assert_eq!(got.height(), want.height(), "{got}\n{want}");
    for name in ["period_start", "group", "metric", "n"] {
        assert_eq!(
            got.column(name).unwrap(),
            want.column(name).unwrap(),
            "{name}"
        );
    }
    let (got, want) = (got.column("value").unwrap(), want.column("value").unwrap());
    for (g, w) in got.f64().unwrap().iter().zip(want.f64().unwrap().iter()) {
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{g} {w}"),
            (g, w) => assert_eq!(g, w),
        }
    }
}

#[test]
fn matches_polars_group_by() {
    for by in [Dimension::Lane, Dimension::None] {
        let got = sorted(aggregate(base(), by, None, values()));
        assert_close(&got, &expected(by));
    }
}

#[test]
fn groups_looked_up_by_key_are_the_groups_by_name() {
    let facts = base().select([col("key"), col("group")]).collect().unwrap();
    let known = Arc::new(GroupIds::of(&facts, "group").unwrap());
    // Every other row: a cohort, as a family filters one.
    let cohort = base().filter((col("key") % lit(2u32)).eq(lit(0u32)));
    let by_key = sorted(aggregate(
        cohort.clone(),
        Dimension::Lane,
        Some(known),
        values(),
    ));
    let by_name = sorted(aggregate(cohort, Dimension::Lane, None, values()));
    assert_eq!(by_key, by_name);
    assert!(by_key.height() > 0);
}

#[test]
fn a_group_named_all_is_not_the_total() {
    let got = sorted(aggregate(base(), Dimension::Lane, None, values()));
    let n = got
        .lazy()
        .filter(col("group").eq(lit(ALL)).and(col("metric").eq(lit("sum"))))
        .select([col("n")])
        .collect()
        .unwrap();
    // Per period (two, and the rows without one): the total, and the group "ALL".
    assert_eq!(n.height(), 6);
}

#[test]
fn no_rows_no_metric_rows() {
    let got = aggregate(base().filter(lit(false)), Dimension::Lane, None, values())
        .collect()
        .unwrap();
    assert_eq!(got.height(), 0);
    assert_eq!(
        got.get_column_names(),
        ["period_start", "group", "metric", "value", "n"]
    );
}

#[test]
fn partial_states_of_any_split_merge_to_the_rows_of_one_run() {
    let mut values = values();
    values.push(("ratio", ratio(col("x") * lit(0.5), col("x"))));
    for by in [Dimension::Lane, Dimension::None] {
        let whole = aggregate(base(), by, None, values.clone())
            .collect()
            .unwrap()
            .sort(
                ["period_start", "group", "metric"],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .unwrap();
        for parts in [1u32, 2, 7, 64] {
            let mut partials = DataFrame::empty_with_schema(&partial_schema());
            for part in 0..parts {
                let rows = base().filter((col("key") % lit(parts)).eq(lit(part)));
                let partial = aggregate_as(rows, by, None, values.clone(), Output::Partial)
                    .collect()
                    .unwrap();
                partials.vstack_mut_owned(partial).unwrap();
            }
            let mut merged = merge(&partials, by).unwrap();
            if by != Dimension::None {
                merged.rename(by.column(), "group".into()).unwrap();
            }
            // To the bit: exact sums, the same order statistics.
            assert_eq!(merged, whole, "{by:?} in {parts} parts");
        }
    }
}

#[test]
fn a_ratio_has_no_row_where_its_denominator_sums_to_zero() {
    let frame = df!(
        "period_start" => [1i32, 1, 2],
        "group" => ["a", "a", "b"],
        "part" => [1.0, 2.0, 0.0],
        "total" => [4.0, 4.0, 0.0],
    )
    .unwrap()
    .lazy()
    .with_column(col("period_start").cast(DataType::Date));
    let rows = aggregate(
        frame,
        Dimension::Lane,
        None,
        vec![("share", ratio(col("part"), col("total")))],
    )
    .collect()
    .unwrap();
    // Period 1 (a and ALL): 3 / 8; period 2 has no row.
    assert_eq!(rows.height(), 2);
    let values: Vec<Option<f64>> = rows
        .column("value")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(values, [Some(0.375), Some(0.375)]);
}

#[test]
fn quantiles_interpolate_like_polars() {
    assert_eq!(quantile(&mut [], 0.5), None);
    assert_eq!(quantile(&mut [3.0], 0.9), Some(3.0));
    assert_eq!(quantile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
    // (5 − 1) × 0.9 = 3.6: 40 + 0.6 × (50 − 40).
    let p90 = quantile(&mut [50.0, 10.0, 40.0, 20.0, 30.0], 0.9).unwrap();
    assert!((p90 - 46.0).abs() < 1e-12);
}
