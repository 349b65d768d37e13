//! The keys of an appended export's conversations (`ingest --append`): the
//! warehouse's key for an id it holds, the next free key for a new one.

use anyhow::Result;
use polars::prelude::*;

use super::ids::IdMap;
use super::schema::CONVERSATION_KEY;
use super::validate::ValidatedTable;

/// The warehouse's conversations, for the batch's keys.
pub struct Seed {
    ids: IdMap,
    next_key: u32,
}

impl Seed {
    /// The conversation ids and keys of a warehouse, from its conversations table.
    pub fn read(conversations: LazyFrame) -> Result<Seed> {
        let frame = conversations
            .select([col("conversation_id"), col(CONVERSATION_KEY)])
            .collect()?;
        let ids_column = frame.column("conversation_id")?.str()?;
        let keys = frame.column(CONVERSATION_KEY)?.u32()?;
        let mut ids = IdMap::default();
        let mut next_key = 0u32;
        for (id, key) in ids_column.iter().zip(keys.iter()) {
            if let (Some(id), Some(key)) = (id, key) {
                ids.insert(id, key);
                next_key = next_key.max(key + 1);
            }
        }
        Ok(Seed { ids, next_key })
    }

    /// Gives the batch's conversations the warehouse's key for an id it holds, the next free
    /// key otherwise, and leaves the map of both for the other tables.
    pub(super) fn rekey(self, conversations: &mut ValidatedTable) -> Result<()> {
        let Seed {
            mut ids,
            mut next_key,
        } = self;
        let frame = &mut conversations.frame;
        let batch_ids = frame.column("conversation_id")?.str()?.clone();
        let keys: Vec<u32> = batch_ids
            .iter()
            .map(|id| {
                let id = id.unwrap_or_default();
                ids.get(id).unwrap_or_else(|| {
                    let key = next_key;
                    next_key += 1;
                    ids.insert(id, key);
                    key
                })
            })
            .collect();
        frame.with_column(UInt32Chunked::from_vec(CONVERSATION_KEY.into(), keys).into_column())?;
        conversations.ids = ids;
        Ok(())
    }
}
