//! Partitions of the conversations by customer: every rule that looks across conversations
//! (repeat contact, duplicates, durable bot resolutions, billing windows) looks only at the
//! same customer's, so the facts of one partition are the facts of its conversations in a run
//! over all of them, and a large history can be computed one partition at a time.
//!
//! A conversation's partition is a hash of its (resolved) customer id, the same on every
//! machine and in every version: FNV-1a over the id's bytes, modulo the partition count.

use anyhow::{Result, bail};
use polars::prelude::*;

use crate::dataset::{Dataset, stream};
use crate::ingest::schema::{CONVERSATION_KEY, Table};

/// Conversations per partition when the count is chosen from the data: the facts of 2.5 M
/// conversations (about 16 M messages) and their metric states peak at about 2.5 GiB.
pub const CONVERSATIONS_PER_PARTITION: u64 = 2_500_000;

/// The most partitions a run takes: enough for 600 M conversations at the default size.
pub const MAX_PARTITIONS: usize = 256;

/// The conversation keys of each partition, ascending.
#[derive(Debug, Clone)]
pub struct Plan {
    parts: Vec<Vec<u32>>,
}

/// The partition of a customer id among `count` (a missing id is one customer, as the rules
/// count it).
pub fn of_customer(customer: Option<&str>, count: usize) -> usize {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let bytes = customer.map(str::as_bytes).unwrap_or(&[0xff]);
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    (hash % count as u64) as usize
}

/// The partition count for `conversations` rows: one partition up to
/// [`CONVERSATIONS_PER_PARTITION`], then one more per that many.
pub fn count_for(conversations: u64) -> usize {
    (conversations.div_ceil(CONVERSATIONS_PER_PARTITION) as usize).clamp(1, MAX_PARTITIONS)
}

/// Checks a partition count given on the command line.
pub fn check_count(count: usize) -> Result<usize> {
    if count == 0 || count > MAX_PARTITIONS {
        bail!(
            "--customer-partitions {count}: give a number from 1 to {MAX_PARTITIONS} (or leave it \
             out to choose from the data size)"
        );
    }
    Ok(count)
}

/// Rows of the conversations table read at once while the plan is made.
const SLICE: usize = 4_000_000;

impl Plan {
    /// The partitions of the conversations of `data` among `count`.
    pub fn of(data: &Dataset, count: usize) -> Result<Plan> {
        let mut parts = vec![Vec::new(); count];
        let table = data.table(Table::Conversations)?;
        let rows = crate::warehouse::row_count(table.clone())? as usize;
        let mut offset = 0;
        while offset < rows {
            let slice = stream(
                table
                    .clone()
                    .slice(offset as i64, SLICE as IdxSize)
                    .select([col(CONVERSATION_KEY), col("customer_id")]),
            )?;
            let keys = slice.column(CONVERSATION_KEY)?.u32()?;
            let customers = slice.column("customer_id")?.str()?;
            for (key, customer) in keys.iter().zip(customers.iter()) {
                if let Some(key) = key {
                    parts[of_customer(customer, count)].push(key);
                }
            }
            offset += SLICE;
        }
        for keys in &mut parts {
            keys.sort_unstable();
        }
        Ok(Plan { parts })
    }

    /// The number of partitions.
    pub fn count(&self) -> usize {
        self.parts.len()
    }

    /// The data of partition `index`: its conversations and their rows of every table that
    /// references a conversation; the other tables whole.
    pub fn part(&self, data: &Dataset, index: usize) -> Dataset {
        let keys = DataFrame::new_infer_height(vec![Column::new(
            CONVERSATION_KEY.into(),
            &self.parts[index],
        )])
        .expect("one column")
        .lazy();
        // A semi join keeps the rows in their order (the tables are sorted by conversation), and
        // builds its hash table once: `is_in` builds one per batch, ten times slower.
        let mut semi = JoinArgs::new(JoinType::Semi);
        semi.maintain_order = MaintainOrderJoin::Left;
        let tables = data
            .tables
            .iter()
            .map(|(&table, frame)| {
                let frame = if table == Table::Conversations || table.references_conversation() {
                    frame.clone().join(
                        keys.clone(),
                        [col(CONVERSATION_KEY)],
                        [col(CONVERSATION_KEY)],
                        semi.clone(),
                    )
                } else {
                    frame.clone()
                };
                (table, frame)
            })
            .collect();
        Dataset {
            tables,
            summary: data.summary.clone(),
            quarantine: Vec::new(),
            from_warehouse: data.from_warehouse,
            text_findings: data.text_findings.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_is_always_in_the_same_partition() {
        // FNV-1a of "abc" is 0xe71fa2190541574b.
        assert_eq!(
            of_customer(Some("abc"), 1 << 20),
            0xe71fa2190541574b % (1 << 20)
        );
        assert_eq!(of_customer(Some("abc"), 7), of_customer(Some("abc"), 7));
        assert_eq!(of_customer(Some("x"), 1), 0);
        assert!(of_customer(None, 64) < 64);
        // Ids spread over the partitions.
        let mut seen = [0u32; 7];
        for i in 0..7_000 {
            seen[of_customer(Some(&format!("+4917{i:07}")), 7)] += 1;
        }
        assert!(seen.iter().all(|&n| (800..1200).contains(&n)), "{seen:?}");
    }

    #[test]
    fn the_count_grows_with_the_data() {
        assert_eq!(count_for(0), 1);
        assert_eq!(count_for(1_000_000), 1);
        assert_eq!(count_for(CONVERSATIONS_PER_PARTITION), 1);
        assert_eq!(count_for(CONVERSATIONS_PER_PARTITION + 1), 2);
        assert_eq!(count_for(100_000_000), 40);
        assert_eq!(count_for(u64::MAX), MAX_PARTITIONS);
        assert!(check_count(0).is_err());
        assert!(check_count(MAX_PARTITIONS + 1).is_err());
        assert_eq!(check_count(7).unwrap(), 7);
    }
}
