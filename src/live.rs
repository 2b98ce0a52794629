//! Live updates in the browser: the context pages read to refresh themselves when the portal's
//! socket reports a change.

use leptos::prelude::*;

use crate::model::LiveEvent;

#[derive(Clone, Copy)]
pub struct LiveContext {
    /// Bumped on every change for this portal: pages add it to their resources' sources.
    pub refresh: RwSignal<u64>,
    /// The latest event, for pages that patch themselves (the open ticket).
    pub last_event: RwSignal<Option<LiveEvent>>,
}

impl LiveContext {
    pub fn provide() -> Self {
        let context = Self {
            refresh: RwSignal::new(0),
            last_event: RwSignal::new(None),
        };
        provide_context(context);
        context
    }
}
