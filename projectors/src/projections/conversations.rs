//! conversations: per agent and channel, and the ordered messages (the agents' memory).

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::conversation::ConversationEvent;
use schemas::{AnyEvent, EventMetadata};
use sqlx::PgConnection;
use uuid::Uuid;

/// A conversation started in this batch.
struct Started {
    tenant_id: String,
    agent_id: Uuid,
    channel: &'static str,
    customer_ref: String,
    started_at: DateTime<Utc>,
    change: Change,
}

/// What a conversation's later events change; several fold into one (the last message
/// number, closed once closed, the last time and version).
struct Change {
    message_count: Option<i32>,
    closed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl Change {
    fn then(&mut self, later: Change) {
        if later.version <= self.version {
            return;
        }
        self.message_count = later.message_count.or(self.message_count);
        self.closed_at = later.closed_at.or(self.closed_at);
        self.updated_at = later.updated_at;
        self.version = later.version;
    }
}

enum Pending {
    Started(Started),
    Changed(Change),
}

struct Message {
    conversation_id: Uuid,
    number: i32,
    direction: &'static str,
    text: String,
    occurred_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Changes {
    conversations: BTreeMap<Uuid, Pending>,
    messages: Vec<Message>,
}

impl Changes {
    pub(super) fn add(&mut self, meta: &EventMetadata, event: &AnyEvent) {
        let AnyEvent::Conversation(event) = event else {
            return;
        };
        let (id, at, version) = (meta.aggregate_id, meta.occurred_at, meta.sequence);
        let change = |message_count, closed_at| Change {
            message_count,
            closed_at,
            updated_at: at,
            version,
        };
        match event {
            ConversationEvent::ConversationStarted(e) => {
                let started = Started {
                    tenant_id: e.tenant_id.as_str().to_owned(),
                    agent_id: e.agent_id.as_uuid(),
                    channel: e.channel.as_str(),
                    customer_ref: e.customer_ref.clone(),
                    started_at: at,
                    change: change(Some(0), None),
                };
                self.conversations.insert(id, Pending::Started(started));
            }
            ConversationEvent::MessageReceived(e) => {
                self.message(meta, e.message_number, "received", &e.text);
                self.change(id, change(Some(e.message_number as i32), None));
            }
            ConversationEvent::MessageSent(e) => {
                self.message(meta, e.message_number, "sent", &e.text);
                self.change(id, change(Some(e.message_number as i32), None));
            }
            ConversationEvent::ConversationClosed(_) => self.change(id, change(None, Some(at))),
        }
    }

    fn message(&mut self, meta: &EventMetadata, number: u32, direction: &'static str, text: &str) {
        self.messages.push(Message {
            conversation_id: meta.aggregate_id,
            number: number as i32,
            direction,
            text: text.to_owned(),
            occurred_at: meta.occurred_at,
        });
    }

    fn change(&mut self, id: Uuid, change: Change) {
        match self.conversations.entry(id) {
            Entry::Vacant(slot) => {
                slot.insert(Pending::Changed(change));
            }
            Entry::Occupied(mut slot) => match slot.get_mut() {
                Pending::Started(started) => started.change.then(change),
                Pending::Changed(earlier) => earlier.then(change),
            },
        }
    }

    pub(super) async fn write(self, db: &mut PgConnection) -> Result<(), sqlx::Error> {
        let mut started = Vec::new();
        let mut changed = Vec::new();
        for (id, pending) in self.conversations {
            match pending {
                Pending::Started(conversation) => started.push((id, conversation)),
                Pending::Changed(change) => changed.push((id, change)),
            }
        }
        insert_started(db, started).await?;
        update_changed(db, changed).await?;
        insert_messages(db, self.messages).await
    }
}

async fn insert_started(
    db: &mut PgConnection,
    started: Vec<(Uuid, Started)>,
) -> Result<(), sqlx::Error> {
    if started.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::new();
    let mut tenants = Vec::new();
    let mut agents = Vec::new();
    let mut channels = Vec::new();
    let mut customers = Vec::new();
    let mut counts = Vec::new();
    let mut closed = Vec::new();
    let mut started_at = Vec::new();
    let mut updated_at = Vec::new();
    let mut versions = Vec::new();
    for (id, conversation) in started {
        ids.push(id);
        tenants.push(conversation.tenant_id);
        agents.push(conversation.agent_id);
        channels.push(conversation.channel);
        customers.push(conversation.customer_ref);
        counts.push(conversation.change.message_count.unwrap_or(0));
        closed.push(conversation.change.closed_at);
        started_at.push(conversation.started_at);
        updated_at.push(conversation.change.updated_at);
        versions.push(conversation.change.version);
    }
    sqlx::query(
        "INSERT INTO conversations (conversation_id, tenant_id, agent_id, channel, customer_ref, status,
                                    message_count, started_at, closed_at, updated_at, version)
         SELECT id, tenant_id, agent_id, channel, customer_ref,
                CASE WHEN closed_at IS NULL THEN 'open' ELSE 'closed' END,
                message_count, started_at, closed_at, updated_at, version
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::int[],
                     $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::bigint[])
              AS c(id, tenant_id, agent_id, channel, customer_ref, message_count, closed_at, started_at,
                   updated_at, version)
         ON CONFLICT (conversation_id) DO NOTHING",
    )
    .bind(ids)
    .bind(tenants)
    .bind(agents)
    .bind(channels)
    .bind(customers)
    .bind(counts)
    .bind(closed)
    .bind(started_at)
    .bind(updated_at)
    .bind(versions)
    .execute(db)
    .await?;
    Ok(())
}

async fn update_changed(
    db: &mut PgConnection,
    changed: Vec<(Uuid, Change)>,
) -> Result<(), sqlx::Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::new();
    let mut counts = Vec::new();
    let mut closed = Vec::new();
    let mut updated_at = Vec::new();
    let mut versions = Vec::new();
    for (id, change) in changed {
        ids.push(id);
        counts.push(change.message_count);
        closed.push(change.closed_at);
        updated_at.push(change.updated_at);
        versions.push(change.version);
    }
    sqlx::query(
        "UPDATE conversations SET message_count = coalesce(c.message_count, conversations.message_count),
                status = CASE WHEN c.closed_at IS NULL THEN conversations.status ELSE 'closed' END,
                closed_at = coalesce(c.closed_at, conversations.closed_at),
                updated_at = c.updated_at, version = c.version
         FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::bigint[])
              AS c(id, message_count, closed_at, updated_at, version)
         WHERE conversations.conversation_id = c.id AND conversations.version < c.version",
    )
    .bind(ids)
    .bind(counts)
    .bind(closed)
    .bind(updated_at)
    .bind(versions)
    .execute(db)
    .await?;
    Ok(())
}

async fn insert_messages(db: &mut PgConnection, messages: Vec<Message>) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(messages.len());
    let mut numbers = Vec::with_capacity(messages.len());
    let mut directions = Vec::with_capacity(messages.len());
    let mut texts = Vec::with_capacity(messages.len());
    let mut times = Vec::with_capacity(messages.len());
    for message in messages {
        ids.push(message.conversation_id);
        numbers.push(message.number);
        directions.push(message.direction);
        texts.push(message.text);
        times.push(message.occurred_at);
    }
    sqlx::query(
        "INSERT INTO messages (conversation_id, message_number, direction, text, occurred_at)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[])
         ON CONFLICT DO NOTHING",
    )
    .bind(ids)
    .bind(numbers)
    .bind(directions)
    .bind(texts)
    .bind(times)
    .execute(db)
    .await?;
    Ok(())
}
