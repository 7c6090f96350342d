//! Storing and finding BEP 44 immutable items.
//!
//! `put` needs a write token from each of the k nodes closest to the
//! target, and tokens only come with `get` answers. So a put runs a
//! FIND_NODE-style lookup (to the k closest, not stopping at a stored copy)
//! whose requests are sent as `get`s; [`TokenTap`] does that translation
//! and keeps the tokens, and the lookup itself is the unchanged strategy.

use std::sync::Mutex;

use async_trait::async_trait;

use super::Node;
use crate::contact::Contact;
use crate::driver::{run_lookup, DriverObserver};
use crate::id::NodeId;
use crate::lookup::{LookupConfig, LookupMode, LookupOutcome};
use crate::protocol::MAX_VALUE_LEN;
use crate::protocol::{Request, Response};
use crate::transport::{Transport, TransportError};

/// Why a put could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PutError {
    /// BEP 44 caps values at 1000 bytes.
    #[error("the value is {0} bytes; BEP 44 allows at most {MAX_VALUE_LEN}: store a shorter value or a hash of it")]
    TooLarge(usize),
}

/// What a put did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutReport {
    /// The item's key: SHA-1 of the bencoded value.
    pub target: NodeId,
    /// Nodes that confirmed storing it.
    pub stored_at: Vec<Contact>,
    /// Nodes among the closest that refused or did not answer, and why.
    pub failed: Vec<(Contact, String)>,
    /// RPCs of the lookup that found the closest nodes.
    pub lookup_requests: u32,
}

/// What a get found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GetReport {
    /// The value, verified against the target.
    pub value: Option<Vec<u8>>,
    /// The lookup that looked for it (`None` when the node had it already).
    pub lookup: Option<LookupOutcome>,
}

/// Sends a lookup's FIND_NODE requests as BEP 44 `get`s and remembers the
/// write token each node hands out. The value in the answers is withheld
/// from the lookup, so it runs to the k closest nodes.
struct TokenTap<'a, T: ?Sized> {
    inner: &'a T,
    tokens: Mutex<Vec<(NodeId, Vec<u8>)>>,
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for TokenTap<'_, T> {
    async fn request(&self, to: Contact, request: Request) -> Result<Response, TransportError> {
        let request = match request {
            Request::FindNode { target } => Request::GetValue { target },
            other => other,
        };
        let mut response = self.inner.request(to, request).await?;
        if let Some(token) = response.token.take() {
            crate::driver::lock(&self.tokens).push((to.id, token));
        }
        response.value = None;
        Ok(response)
    }
}

impl Node {
    /// Store `value` as an immutable item on the k nodes closest to its
    /// target, found with the node's configured strategy.
    pub async fn put(&self, value: Vec<u8>) -> Result<PutReport, PutError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(PutError::TooLarge(value.len()));
        }
        let inner = &self.inner;
        let target = NodeId::of_immutable_value(&value);
        let config: &LookupConfig = &inner.config.lookup;
        let tap = TokenTap {
            inner: &inner.rpc,
            tokens: Mutex::new(Vec::new()),
        };
        let mut strategy = {
            let table = crate::driver::lock(&inner.table);
            config.start(&table, target, LookupMode::FindNode)
        };
        let outcome = run_lookup(
            &mut *strategy,
            LookupMode::FindNode,
            &tap,
            &inner.table,
            &inner.clock,
            config.rpc_timeout(),
            &mut (),
        )
        .await;
        let tokens = tap.tokens.into_inner().unwrap_or_else(|p| p.into_inner());
        let puts = outcome.result.iter().map(|&node| {
            let token = tokens.iter().rev().find(|(id, _)| *id == node.id);
            let value = value.clone();
            async move {
                let Some((_, token)) = token else {
                    return (node, Err("gave no write token".to_string()));
                };
                let put = Request::PutValue {
                    value,
                    token: token.clone(),
                };
                let answer = inner.rpc.request(node, put).await;
                (node, answer.map(|_| ()).map_err(|e| e.to_string()))
            }
        });
        let mut report = PutReport {
            target,
            stored_at: Vec::new(),
            failed: Vec::new(),
            lookup_requests: outcome.stats.requests,
        };
        for (node, result) in futures_util::future::join_all(puts).await {
            match result {
                Ok(()) => report.stored_at.push(node),
                Err(why) => report.failed.push((node, why)),
            }
        }
        tracing::info!(
            target = %target,
            stored = report.stored_at.len(),
            failed = report.failed.len(),
            "put finished"
        );
        Ok(report)
    }

    /// Find the immutable item stored under `target`, with the node's
    /// configured strategy. Values are checked against the target before
    /// they are believed.
    pub async fn get(&self, target: NodeId) -> GetReport {
        self.get_observed(target, &mut ()).await
    }

    /// [`Node::get`], reporting every lookup step to `observer`.
    pub async fn get_observed<O: DriverObserver + ?Sized>(
        &self,
        target: NodeId,
        observer: &mut O,
    ) -> GetReport {
        let local = {
            let now = self.inner.clock.now();
            let mut server = crate::driver::lock(&self.inner.server);
            server.stored_item(target, now)
        };
        if let Some(value) = local {
            return GetReport {
                value: Some(value),
                lookup: None,
            };
        }
        let config = self.inner.config.lookup.clone();
        let outcome = self
            .inner
            .lookup(&config, target, LookupMode::FindValue, observer)
            .await;
        GetReport {
            value: outcome.value.clone(),
            lookup: Some(outcome),
        }
    }
}
