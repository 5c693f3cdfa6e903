//! One operation of a connection, from its text to its last message, and the table of a
//! connection's running operations.

use crate::limits::Limits;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{futures_util::StreamExt as _, parser::types::OperationType};
use serde_json::Value;
use tokio::{sync::oneshot, task::AbortHandle};

use crate::http::tally::Tally;
use rules::UserId;

use super::outbox::Outbox;
use crate::{
    auth::Viewer,
    error::code,
    graphql::{
        budget::{CostGate, RequestLimits},
        checks,
        context::RequestContext,
        subscription::Listening,
    },
};

/// What a user's live subscriptions may cost together, on one server: the complexity one request
/// may have. A change then costs the server at most one largest request's work for each user
/// who watches it, however many subscriptions they open.
pub(crate) const LIVE_BUDGET_PER_USER: usize = Limits::DEFAULT.live_budget_per_user;
/// A running operation: its task, and what tells when that task is gone (its future dropped, with
/// everything the operation held).
pub(super) struct Running {
    pub(super) task: AbortHandle,
    pub(super) gone: oneshot::Receiver<()>,
}

/// The running operations of a connection, by the client's ids. An id is the client's to reuse
/// once its operation is complete, so an operation that ends frees its place only if the place is
/// still its own (the task's id says so), never a newer operation's under the same id.
#[derive(Default)]
pub(super) struct Operations(HashMap<String, Running>);

impl Operations {
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn has(&self, id: &str) -> bool {
        self.0.contains_key(id)
    }

    pub(super) fn start(&mut self, id: String, running: Running) {
        self.0.insert(id, running);
    }

    /// The client completes `id`: whatever runs under it now.
    pub(super) fn complete(&mut self, id: &str) -> Option<Running> {
        self.0.remove(id)
    }

    /// Task `task`, which ran `id`, is ending: its place, if the place is still its own.
    pub(super) fn ended(&mut self, id: &str, task: tokio::task::Id) -> Option<Running> {
        if self.0.get(id).is_some_and(|running| running.task.id() == task) { self.0.remove(id) } else { None }
    }

    /// Task `task` is gone without saying so: whatever place it still has.
    pub(super) fn vanished(&mut self, task: tokio::task::Id) {
        self.0.retain(|_, running| running.task.id() != task);
    }
}

/// Whether the operation a request selects is a subscription (one that does not parse is not:
/// it is answered with its syntax error).
pub(super) fn is_subscription(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    request.parsed_query().is_ok_and(|document| {
        document.operations.iter().any(|(n, op)| {
            name.as_deref().is_none_or(|wanted| n.is_some_and(|n| n.as_str() == wanted))
                && op.node.ty == OperationType::Subscription
        })
    })
}

/// The gate a subscription of `user` passes once validated: its complexity is taken from the
/// user's live budget for as long as it runs, or it is refused.
pub(super) fn cost_gate(budgets: Arc<Tally<UserId>>, user: UserId) -> CostGate {
    let held = Mutex::new(None);
    CostGate(Box::new(move |cost| match budgets.take(user, cost, LIVE_BUDGET_PER_USER) {
        Some(share) => {
            *held.lock().unwrap_or_else(PoisonError::into_inner) = Some(share);
            Ok(())
        }
        None => Err(format!(
            "your live subscriptions may cost {LIVE_BUDGET_PER_USER} together and hold {} now; this one costs {cost}: complete one first",
            budgets.held(user)
        )),
    }))
}

/// An `error` message: the operation never ran.
pub(super) fn error(id: &str, message: &str, code: &str) -> String {
    let (id, message, code) = (Value::from(id), Value::from(message), Value::from(code));
    format!(r#"{{"id":{id},"type":"error","payload":[{{"message":{message},"extensions":{{"code":{code}}}}}]}}"#)
}

/// One operation of a connection, and what answering it needs.
pub(super) struct Operation {
    pub(super) schema: crate::graphql::MomentsSchema,
    /// The schema subscriptions run on.
    pub(super) live_schema: crate::graphql::MomentsSchema,
    /// What the users' subscriptions cost, against their budgets.
    pub(super) budgets: Arc<Tally<UserId>>,
    pub(super) shapes: Arc<crate::graphql::answer::Shapes>,
    pub(super) id: String,
    pub(super) record: store::users::UserRecord,
    pub(super) services: crate::services::Services,
    pub(super) limits: Arc<RequestLimits>,
}

impl Operation {
    /// Runs the operation: an `error` message when it is refused before it runs, else every answer
    /// as a `next` message, then `complete`. A full buffer drops the answer, and the connection
    /// closes as too slow.
    pub(super) async fn run(
        self,
        mut request: async_graphql::Request,
        listening: Listening,
        outbox: Outbox,
        // Dropped with this future, whether it ends or is aborted: its connection learns it is gone.
        _gone: oneshot::Sender<()>,
    ) {
        let Self { schema, live_schema, budgets, shapes, id, record, services, limits } = self;
        let task = tokio::task::id();
        let quoted_id = Value::String(id.clone()).to_string();
        // Every operation waits for its turn before it is parsed, validated or touches the
        // database, as over HTTP; a query's or mutation's turn ends with its answer, a
        // subscription's once it listens (each event then takes its own).
        limits.keep_turn(limits.operation_turn().await);
        if let Some(message) = checks::check_request(&mut request) {
            limits.end_turn();
            outbox.last(id.clone(), task, Some(error(&id, &message, code::GRAPHQL_VALIDATION_FAILED))).await;
            return;
        }
        let schema = if is_subscription(&mut request) {
            request = request.data(cost_gate(budgets, record.id)).data(listening);
            live_schema
        } else {
            listening.tell();
            schema
        };
        let context = RequestContext::new(&services, Viewer::User(record.id), Some(record), limits.clone()).await;
        let prepared = shapes.prepare(&mut request);
        let mut answers = schema.execute_stream(request.data(context));
        let mut first = true;
        while let Some(response) = answers.next().await {
            let answer = shapes.answer(crate::http::codes::with_codes(response), prepared.as_ref());
            if std::mem::take(&mut first) && refused(&answer) {
                limits.end_turn();
                let errors = serde_json::to_string(&answer.errors).unwrap_or_else(|_| "[]".to_owned());
                let message = format!(r#"{{"id":{quoted_id},"type":"error","payload":{errors}}}"#);
                outbox.last(id, task, Some(message)).await;
                return;
            }
            // Written as text, not through `serde_json::Value`, whose maps would sort the answer's keys.
            let payload = match serde_json::to_string(&answer) {
                Ok(payload) => payload,
                Err(e) => {
                    crate::error::log_internal(&anyhow::anyhow!("serialising an answer: {e}").into());
                    break;
                }
            };
            let message = format!(r#"{{"id":{quoted_id},"type":"next","payload":{payload}}}"#);
            let handed = outbox.offer(message);
            limits.end_turn();
            if !handed {
                // Wake the connection so it closes now, not at its next message.
                outbox.last(id, task, None).await;
                return;
            }
        }
        let complete = format!(r#"{{"id":{quoted_id},"type":"complete"}}"#);
        outbox.last(id, task, Some(complete)).await;
    }
}

/// Whether an answer refuses the operation before it ran (syntax, validation, a limit): the
/// protocol's `error` message rather than a `next`.
pub(super) fn refused(answer: &crate::graphql::answer::Answer) -> bool {
    answer.data.is_none()
        && !answer.errors.is_empty()
        && answer.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::String(code::GRAPHQL_VALIDATION_FAILED.to_owned()))
        })
}

#[cfg(test)]
mod tests {
    use tokio::task::JoinSet;

    use super::*;

    /// A task that waits until aborted, and its place.
    fn running(tasks: &mut JoinSet<()>) -> (Running, tokio::task::Id) {
        let (_gone_tx, gone) = oneshot::channel();
        let task = tasks.spawn(std::future::pending());
        let id = task.id();
        (Running { task, gone }, id)
    }

    #[tokio::test]
    pub(super) async fn an_operation_that_ends_frees_only_its_own_place_under_a_reused_id() {
        let mut tasks = JoinSet::new();
        let mut operations = Operations::default();
        let (query, query_task) = running(&mut tasks);
        operations.start("x".into(), query);
        // The client completes "x" as its query ends by itself, and names a subscription "x".
        assert!(operations.complete("x").is_some());
        let (subscription, subscription_task) = running(&mut tasks);
        operations.start("x".into(), subscription);
        // The query's end, told only now, leaves the subscription where it is.
        assert!(operations.ended("x", query_task).is_none());
        operations.vanished(query_task);
        assert_eq!(operations.len(), 1);
        assert!(operations.has("x"));
        assert!(operations.ended("x", subscription_task).is_some());
        assert_eq!(operations.len(), 0);
        // Every task goes with the connection.
        let (left, _) = running(&mut tasks);
        drop(tasks);
        tokio::task::yield_now().await;
        assert!(left.task.is_finished());
    }
}
