//! The documents each window of a case can have, and the synchronous half of
//! every step, worked out once before the event loop is explored.
//!
//! Every document a case can create is known statically: a window's first
//! document, the initial `about:blank` of a window a `create` step makes,
//! and one document per `navigate` or `reload` step. Which of them ever
//! becomes active depends on the order the event loop runs things in
//! ([`crate::event_loop`]); their origins do not, because validation
//! lets a window's script act only once its document is settled. Opaque
//! origins are allocated here, in step order, so answers never depend on
//! the order in which the explorer visits states.
//!
//! <https://html.spec.whatwg.org/multipage/browsing-the-web.html#navigate>

use crate::call_args::resolve_post_message;
use crate::case::{CallForm, Case, Post, Relation, Step, WindowContent, WindowIndex};
use crate::document::{determine_the_origin, DocumentUrl};
use crate::isolation::{
    cross_origin_isolated_capability, popup_keeps_its_opener, same_agent_cluster,
};
use crate::message::RealmBuffers;
use crate::message_port::{transferred_ports, Destination, PortPlan};
use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::outcome::{observed_data, thrown_in_realm, Delivery, PostOutcome};
use crate::post_message::{
    run_posted_message_task, window_post_message_steps, ExceptionRealm, PostMessageCall,
    PostMessageError, PostedMessageTask,
};

/// Index of a document in [`Plan::documents`].
pub type DocumentIndex = usize;

/// One document a window can have.
#[derive(Debug, Clone)]
pub struct DocumentPlan {
    /// The window (navigable) it belongs to.
    pub window: WindowIndex,
    /// How observations name it: the window's name for its first document,
    /// `name@blank` for the initial `about:blank` of a window created by a
    /// step, `name@<step>` for the document a `navigate` or `reload` step
    /// loads.
    pub label: String,
    /// Its origin.
    pub origin: Origin,
    /// Why it exists, for traces.
    pub cause: String,
    /// It is the initial `about:blank` of a window a `create` step makes
    /// (whose Window a same-origin first load may reuse, whatwg/html#3267).
    pub initial_about_blank: bool,
}

/// What the event loop explorer needs, computed once per case.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every document the case can create.
    pub documents: Vec<DocumentPlan>,
    /// The first document of each window created up front (`None` for
    /// windows a `create` step makes).
    pub initial_document: Vec<Option<DocumentIndex>>,
    /// For each `create` step: the document the window starts with (its
    /// initial `about:blank`, or its only document when it loads
    /// `about:blank`) and the one its first navigation loads, if any.
    pub created: Vec<Option<(DocumentIndex, Option<DocumentIndex>)>>,
    /// For each `navigate` or `reload` step: the document it loads.
    pub loads: Vec<Option<DocumentIndex>>,
    /// For each `post` step: what the synchronous part of `postMessage`
    /// did (the task it queued, or the exception it threw).
    pub posts: Vec<Option<Result<PostedMessageTask, PostMessageError>>>,
    /// For each `post` step: the sender's document (the incumbent's
    /// associated Document when `postMessage` ran).
    pub senders: Vec<Option<DocumentIndex>>,
    /// For each `post` step: every window's document when `postMessage`
    /// ran (empty for other steps): the realms a cross-window call's
    /// function and another realm's Errors come from.
    pub documents_at_post: Vec<Vec<Option<DocumentIndex>>>,
    /// Lines explaining the plan, for the answer's trace.
    pub trace: Vec<String>,
    /// For each `post` step whose message holds a SharedArrayBuffer and
    /// returned: the incumbent origin, whose agent cluster the buffer
    /// belongs to ([`Plan::deserialize_fails_in`]).
    pub shared_buffer_from: Vec<Option<crate::origin::Origin>>,
    /// The case's message ports: who holds each, what each `port_post`
    /// did, the messages each port received ([`crate::message_port`]).
    pub ports: PortPlan,
    /// For each `post` step: the ports its transfer list holds, as the
    /// call's arguments resolve (`event.ports` of its message event).
    pub transferred: Vec<Vec<String>>,
}

impl Plan {
    /// What each post step's caller saw: whether `postMessage` returned or
    /// what it threw. It does not depend on the event loop's order.
    pub fn post_outcomes(&self, case: &Case) -> Vec<PostOutcome> {
        (0..case.steps.len())
            .filter_map(|i| {
                let result = match &case.steps[i] {
                    Step::Post(_) => self.posts[i].as_ref().map(|r| r.as_ref().err()),
                    Step::PortPost(_) => {
                        self.ports.port_posts[i].as_ref().map(|r| r.as_ref().err())
                    }
                    _ => return None,
                };
                Some(match result.flatten() {
                    Some(e) => match &case.steps[i] {
                        Step::Post(Post {
                            function_of: Some(f),
                            from,
                            ..
                        }) => {
                            // A cross-window call: the exception's realm
                            // is observable, and said (post_message.rs).
                            let realm = match e.realm() {
                                ExceptionRealm::Function => *f,
                                ExceptionRealm::Getter => *from,
                            };
                            PostOutcome::threw(
                                i,
                                &thrown_in_realm(e.name(), &case.windows[realm].name),
                            )
                        }
                        _ => PostOutcome::threw(i, e.name()),
                    },
                    None => PostOutcome::returned(i),
                })
            })
            .collect()
    }

    /// The task post step `step` queued (it returned).
    pub fn queued_task(&self, step: usize) -> &PostedMessageTask {
        match self.posts.get(step) {
            Some(Some(Ok(task))) => task,
            _ => unreachable!("only posts that returned queue tasks"),
        }
    }

    /// The message event post step `step`'s task fires, as its receiver
    /// observes it; `source_null` when `event.source` is null (the
    /// sender's document was no longer fully active when the task ran).
    pub fn delivery(&self, case: &Case, step: usize, source_null: bool) -> Delivery {
        self.delivery_with(
            case,
            step,
            self.deserialize_fails(case, step),
            source_null,
            0,
        )
    }

    /// Whether post step `step`'s message event at the target's document
    /// when it was called is a `messageerror` (step 8.4:
    /// StructuredDeserializeWithTransfer throws, a SharedArrayBuffer
    /// leaving its agent cluster; [`crate::isolation`]).
    pub fn deserialize_fails(&self, case: &Case, step: usize) -> bool {
        let to = case.steps[step].as_post().expect("a post").to;
        self.documents_at_post[step][to].is_some_and(|d| self.deserialize_fails_in(step, d))
    }

    /// Whether step `step`'s message fails to deserialize in document
    /// `d`: it holds a SharedArrayBuffer and `d` is in another agent
    /// cluster than the sender. StructuredDeserialize runs in the task,
    /// with "targetRealm" the realm of the document the task runs in, so
    /// for a target whose navigation was under way this is the document
    /// the task runs in, not the one the navigation commits: an initial
    /// `about:blank` has its creator's origin (and agent cluster).
    pub fn deserialize_fails_in(&self, step: usize, d: DocumentIndex) -> bool {
        self.shared_buffer_from[step]
            .as_ref()
            .is_some_and(|from| !same_agent_cluster(from, &self.documents[d].origin))
    }

    /// The message event post step `step`'s task fires in document `d`
    /// (chosen by the event loop's order), once the first `seen` writes
    /// into the message's SharedArrayBuffers had run when it fired
    /// ([`crate::shared_memory`]).
    pub fn delivery_in(
        &self,
        case: &Case,
        step: usize,
        d: DocumentIndex,
        source_null: bool,
        seen: crate::shared_memory::WritesSeen,
    ) -> Delivery {
        self.delivery_with(
            case,
            step,
            self.deserialize_fails_in(step, d),
            source_null,
            seen,
        )
    }

    fn delivery_with(
        &self,
        case: &Case,
        step: usize,
        deserialize_fails: bool,
        source_null: bool,
        seen: crate::shared_memory::WritesSeen,
    ) -> Delivery {
        let task = self.queued_task(step);
        let post = case.steps[step].as_post().expect("a post");
        if deserialize_fails {
            // 8.4. ... fire an event named messageerror at targetWindow,
            // using MessageEvent, with the origin attribute initialized to
            // origin and the source attribute initialized to source.
            return Delivery {
                message: serde_json::json!({ "$messageerror": null }),
                origin: task.origin.clone(),
                source: (!source_null).then(|| case.windows[post.from].name.clone()),
                ports: Vec::new(),
            };
        }
        let message = if seen == 0 {
            observed_data(&task.message)
        } else {
            observed_data(&crate::shared_memory::after_writes(
                case,
                step,
                &task.message,
                seen,
            ))
        };
        Delivery {
            message,
            origin: task.origin.clone(),
            source: (!source_null).then(|| case.windows[post.from].name.clone()),
            ports: self.transferred[step].clone(),
        }
    }
}

/// Plans every document and runs the synchronous part of every post.
///
/// A window's script runs a step only when its document is settled (case
/// validation sees to that), so the document a step runs in, and thus the
/// incumbent origin of a post, is the window's latest document at that
/// step.
pub fn plan_case(case: &Case) -> Plan {
    let n = case.windows.len();
    let mut alloc = OpaqueOriginAllocator::new();
    let mut plan = Plan {
        documents: Vec::new(),
        initial_document: vec![None; n],
        created: vec![None; case.steps.len()],
        loads: vec![None; case.steps.len()],
        posts: vec![None; case.steps.len()],
        senders: vec![None; case.steps.len()],
        documents_at_post: vec![Vec::new(); case.steps.len()],
        trace: Vec::new(),
        ports: PortPlan::new(case.steps.len()),
        shared_buffer_from: vec![None; case.steps.len()],
        transferred: vec![Vec::new(); case.steps.len()],
    };
    let names: Vec<String> = case.windows.iter().map(|w| w.name.clone()).collect();
    // The latest document of each window, as steps go by.
    let mut latest: Vec<Option<DocumentIndex>> = vec![None; n];
    let mut latest_url: Vec<Option<DocumentUrl>> = vec![None; n];

    // Windows created up front, in creation order (each after its creator).
    for (w, window) in case.windows.iter().enumerate() {
        if window.created_by_step.is_some() {
            continue;
        }
        let url = content_url(&window.content);
        let source = window
            .relation
            .creator()
            .and_then(|c| latest[c])
            .map(|d| plan.documents[d].origin.clone());
        let origin = determine_the_origin(&url, &window.sandbox_flags, source.as_ref(), &mut alloc);
        let how = match window.relation {
            Relation::Top => "top window".to_owned(),
            Relation::Iframe { parent } => format!("iframe in {}", case.windows[parent].name),
            Relation::Popup { opener } => format!("popup opened by {}", case.windows[opener].name),
        };
        let sandboxed = if window.sandbox_flags.forces_opaque_origin() {
            ", sandboxed"
        } else {
            ""
        };
        plan.trace.push(format!(
            "{}: {how}{sandboxed}, document origin {origin}",
            window.name
        ));
        if case.is_isolated() && matches!(window.relation, Relation::Popup { .. }) {
            let origin_of = |x: usize| {
                latest[x].map_or_else(|| origin.clone(), |d| plan.documents[d].origin.clone())
            };
            plan.trace.push(if popup_keeps_its_opener(case, w, &origin_of) {
                format!("{}: its opener policy and origin match its initial about:blank's: no browsing context group switch, it keeps its opener", window.name)
            } else {
                format!("{}: its opener policy and origin do not match its initial about:blank's: a browsing context group switch puts it in a new group, without an opener", window.name)
            });
        }
        let d = push(
            &mut plan,
            w,
            window.name.clone(),
            origin,
            format!("{how}, created up front"),
        );
        plan.initial_document[w] = Some(d);
        latest[w] = Some(d);
        latest_url[w] = Some(url);
    }

    // One realm per document: a document's buffers are its own, and a new
    // document (a navigation's, a reload's) starts with fresh ones.
    let mut realms: Vec<RealmBuffers> = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        if realms.len() < plan.documents.len() {
            realms.resize(plan.documents.len(), RealmBuffers::default());
        }
        // Ports posted in an earlier task have arrived by now: their
        // message tasks ran before this step's task (the harness waits for
        // a port a step uses; non-race cases: one document per window).
        for (w, name) in plan.ports.arrivals_before(case.task_of_step[i]) {
            if let Some(d) = latest[w] {
                realms[d].port_arrived(&name);
            }
        }
        match step {
            Step::Post(p) => {
                let sender = latest[p.from].expect("validation: the sender exists");
                let incumbent = plan.documents[sender].origin.clone();
                plan.senders[i] = Some(sender);
                plan.documents_at_post[i] = latest.clone();
                let from = &case.windows[p.from].name;
                // A cross-window call names the function's window too.
                let to = &match p.function_of {
                    Some(f) => format!("{} (calling {}'s postMessage function)", case.windows[p.to].name, case.windows[f].name),
                    None => case.windows[p.to].name.clone(),
                };
                // The sender's cross-origin isolated capability (non-race
                // cases: one document per window, so its origin is known).
                let origin_of = |w: usize| {
                    latest[w].map_or_else(|| incumbent.clone(), |d| plan.documents[d].origin.clone())
                };
                realms[sender].cross_origin_isolated =
                    cross_origin_isolated_capability(case, p.from, &origin_of);
                // The message and transfer list the steps run with: as
                // written, or as overload resolution and conversion made
                // them from raw arguments.
                let (message, transfer, resolved) = match &p.form {
                    CallForm::Positional | CallForm::Options => {
                        (p.message.clone(), p.transfer.clone().unwrap_or_default(), None)
                    }
                    CallForm::Args(args) => match resolve_post_message(args) {
                        Ok(idl) => (idl.message.clone(), idl.transfer.clone(), Some(Ok(idl.target_origin))),
                        Err(e) => (p.message.clone(), Vec::new(), Some(Err(e))),
                    },
                };
                plan.ports.check_objects(i, p.from, &message.port_names(), &names);
                if let CallForm::Args(args) = &p.form {
                    let in_args: Vec<String> = args.iter().flat_map(|a| a.port_names()).collect();
                    plan.ports.check_objects(i, p.from, &in_args, &names);
                }
                plan.ports.check_objects(i, p.from, &transferred_ports(&transfer), &names);
                plan.ports.note_awaits(i, &transferred_ports(&transfer), &realms[sender]);
                plan.transferred[i] = transferred_ports(&transfer);
                let result = match resolved {
                    Some(Err(e)) => Err(e.into()),
                    resolved => {
                        let target_origin = match &resolved {
                            Some(Ok(t)) => Some(t.as_str()),
                            _ => p.target_origin.as_deref(),
                        };
                        let call = PostMessageCall {
                            incumbent_origin: &incumbent,
                            message: &message,
                            target_origin,
                            transfer: &transfer,
                        };
                        window_post_message_steps(&call, &mut realms[sender], &mut alloc)
                    }
                };
                // The ports a returned post carries move to the target's
                // document, or are lost if its task returns at step 8.1
                // (non-race cases: the target has one document, known now).
                if let (Ok(_), Some(target), true) = (&result, latest[p.to], message.contains_shared_buffer()) {
                    // StructuredDeserialize: "If targetRealm's corresponding
                    // agent cluster is not serialized.[[AgentCluster]],
                    // then throw a DataCloneError".
                    plan.shared_buffer_from[i] = Some(incumbent.clone());
                    plan.trace.push(format!(
                        "step {i}: the message holds a SharedArrayBuffer: {}",
                        match (plan.deserialize_fails_in(i, target), case.windows[p.to].created_by_step.is_some()) {
                            (true, false) => "the target is in another agent cluster (keyed by origin), so deserializing it throws and the task fires messageerror (step 8.4)",
                            (false, false) => "the target is in the sender's agent cluster, so it arrives",
                            // [`Plan::deserialize_fails_in`].
                            (_, true) => "the target is a created window, so the document its task runs in decides (its initial about:blank has its creator's origin, the document its navigation commits its own): one in the sender's agent cluster gets the buffer, one in another fires messageerror (step 8.4)",
                        }
                    ));
                }
                if let (Ok(task), Some(target)) = (&result, latest[p.to]) {
                    let ports = transferred_ports(&transfer);
                    if !ports.is_empty() {
                        // Step 8.1 drops the message before its ports are
                        // received; a messageerror (8.4) receives them
                        // where no script can reach them.
                        let delivered = run_posted_message_task(task, &plan.documents[target].origin).is_ok() && !plan.deserialize_fails_in(i, target);
                        let to = Destination { task: case.task_of_step[i], window: delivered.then_some(p.to) };
                        plan.ports.window_post_returned(i, &ports, to);
                    }
                }
                plan.trace.push(match &result {
                    Ok(task) => format!("step {i}: {from} -> {to}: returned; task queued (targetOrigin {})", describe_target(task)),
                    Err(e) => format!("step {i}: {from} -> {to}: throws {} {}", e.name(), detail(e)),
                });
                plan.posts[i] = Some(result);
            }
            Step::Create { window } => {
                let w = *window;
                let win = &case.windows[w];
                let creator = win.relation.creator().expect("validation: created windows have a creator");
                let creator_origin = latest[creator].map(|d| plan.documents[d].origin.clone()).expect("validation: the creator exists");
                let url = content_url(&win.content);
                let blank_only = matches!(&url, DocumentUrl::Url(u) if crate::document::matches_about_blank(u));
                // Creating a new browsing context: its initial about:blank
                // document gets the creator's origin (it is "about:blank"
                // with the creator as source origin).
                // <https://html.spec.whatwg.org/multipage/document-sequences.html#creating-a-new-browsing-context>
                let blank_origin = determine_the_origin(&DocumentUrl::Url(url::Url::parse("about:blank").expect("valid")), &win.sandbox_flags, Some(&creator_origin), &mut alloc);
                if blank_only {
                    let d = push(&mut plan, w, win.name.clone(), blank_origin.clone(), format!("step {i}: created; stays on its initial about:blank"));
                    plan.trace.push(format!("step {i}: {} creates {}: initial about:blank document, origin {blank_origin}, and no navigation", case.windows[creator].name, win.name));
                    plan.created[i] = Some((d, None));
                    latest[w] = Some(d);
                    latest_url[w] = Some(url);
                } else {
                    let blank = push(&mut plan, w, format!("{}@blank", win.name), blank_origin.clone(), format!("step {i}: the initial about:blank"));
                    // "Creating a new browsing context": its Window is
                    // created in the agent obtained for the creator's
                    // origin ([`crate::agent`]).
                    plan.documents[blank].initial_about_blank = true;
                    let origin = determine_the_origin(&url, &win.sandbox_flags, Some(&creator_origin), &mut alloc);
                    let first = push(&mut plan, w, win.name.clone(), origin.clone(), format!("step {i}: the first navigation's document"));
                    plan.trace.push(format!(
                        "step {i}: {} creates {}: initial about:blank document (origin {blank_origin}) until its navigation commits a document with origin {origin}",
                        case.windows[creator].name, win.name
                    ));
                    plan.created[i] = Some((blank, Some(first)));
                    latest[w] = Some(first);
                    latest_url[w] = Some(url);
                }
            }
            Step::Navigate(nav) => {
                let w = nav.window;
                let url = DocumentUrl::Url(nav.url.clone());
                let origin = determine_the_origin(&url, &case.windows[w].sandbox_flags, None, &mut alloc);
                let label = format!("{}@{i}", case.windows[w].name);
                plan.trace.push(format!("step {i}: {} navigates {} to {}: the new document {label} would have origin {origin}", case.windows[nav.by].name, case.windows[w].name, nav.url));
                let d = push(&mut plan, w, label, origin, format!("step {i}: navigate"));
                plan.loads[i] = Some(d);
                latest[w] = Some(d);
                latest_url[w] = Some(url);
            }
            Step::Reload { window } => {
                let w = *window;
                let url = latest_url[w].clone().expect("validation: the window exists");
                let source = case.windows[w].relation.creator().and_then(|c| latest[c]).map(|d| plan.documents[d].origin.clone());
                let origin = determine_the_origin(&url, &case.windows[w].sandbox_flags, source.as_ref(), &mut alloc);
                let label = format!("{}@{i}", case.windows[w].name);
                plan.trace.push(format!("step {i}: {} reloads: the new document {label} would have origin {origin}", case.windows[w].name));
                let d = push(&mut plan, w, label, origin, format!("step {i}: reload"));
                plan.loads[i] = Some(d);
                latest[w] = Some(d);
            }
            Step::SetDomain { window, domain } => plan.trace.push(if case.is_isolated() {
                format!(
                    "step {i}: {} sets document.domain = {domain:?}: its agent cluster is origin-keyed (cross-origin isolated), so the setter returns at step 6 and the origin's domain stays unset",
                    case.windows[*window].name
                )
            } else {
                format!(
                    "step {i}: {} sets document.domain = {domain:?}: only the origin's domain changes; the same-origin check (step 8.1) and event.origin ignore it",
                    case.windows[*window].name
                )
            }),
            Step::SabWrite(w) => plan.trace.push(format!(
                "step {i}: {} writes {:?} at byte {} of {} (step {}'s SharedArrayBuffer): a message event at a receiver of that buffer sees it when the write ran before that message task (always, when the write is in the post's own task)",
                case.windows[w.window].name,
                w.bytes,
                w.offset,
                w.sab,
                w.post
            )),
            Step::PushState { window } => plan.trace.push(format!(
                "step {i}: {} calls history.pushState: the URL changes, the document does not",
                case.windows[*window].name
            )),
            Step::Fragment { window, fragment } => plan.trace.push(format!(
                "step {i}: {} sets location.hash = {fragment:?}: navigate to a fragment, same document",
                case.windows[*window].name
            )),
            Step::Channel { window, ports, start } => plan.ports.channel(i, *window, ports, *start, &names[*window]),
            Step::PortPost(post) => {
                let sender = latest[post.from].expect("validation: the sender exists");
                let origin_of = |w: usize| plan.documents[latest[w].expect("non-race: every window exists")].origin.clone();
                realms[sender].cross_origin_isolated =
                    cross_origin_isolated_capability(case, post.from, &origin_of);
                let mut used = vec![post.port.clone()];
                used.extend(transferred_ports(&post.transfer));
                plan.ports.note_awaits(i, &used, &realms[sender]);
                // StructuredDeserialize: "If targetRealm's corresponding
                // agent cluster is not serialized.[[AgentCluster]], then
                // throw a DataCloneError" (a SharedArrayBuffer's).
                let has_sab = post.message.contains_shared_buffer();
                let sender_origin = plan.documents[sender].origin.clone();
                let deserializes = |w: usize| !has_sab || same_agent_cluster(&sender_origin, &origin_of(w));
                let task = case.task_of_step[i];
                let result = plan.ports.port_post(i, task, post, &mut realms[sender], &names, deserializes);
                if let Err(e) = &result {
                    plan.trace.push(format!("step {i}: {} posts on {}: throws {} {}", names[post.from], post.port, e.name(), detail(e)));
                }
                plan.ports.port_posts[i] = Some(result);
            }
            Step::PortCall { from, port, action } => {
                let d = latest[*from].expect("validation: the window exists");
                plan.ports.note_awaits(i, std::slice::from_ref(port), &realms[d]);
                plan.ports.port_call(i, *from, port, *action, &mut realms[d], &names);
            }
            Step::Remove { .. } | Step::Close { .. } | Step::WaitLoaded { .. } => {}
        }
        plan.trace.append(&mut plan.ports.trace);
    }
    plan
}

fn push(
    plan: &mut Plan,
    window: WindowIndex,
    label: String,
    origin: Origin,
    cause: String,
) -> DocumentIndex {
    // Its agent depends on the keying: [`crate::agent::agent_clusters`].
    plan.documents.push(DocumentPlan {
        window,
        label,
        origin,
        cause,
        initial_about_blank: false,
    });
    plan.documents.len() - 1
}

fn content_url(content: &WindowContent) -> DocumentUrl {
    match content {
        WindowContent::Url(u) => DocumentUrl::Url(u.clone()),
        WindowContent::Srcdoc(_) => DocumentUrl::Srcdoc,
    }
}

/// A resolved targetOrigin, for traces.
pub fn describe_target(task: &PostedMessageTask) -> String {
    match &task.target_origin {
        crate::target_origin::TargetOrigin::Wildcard => "*".into(),
        crate::target_origin::TargetOrigin::Origin(o) => o.to_string(),
    }
}

/// Why a post threw, for traces.
pub fn detail(e: &PostMessageError) -> String {
    match e {
        PostMessageError::TypeError(why) | PostMessageError::DataCloneError(why) => {
            format!("({why})")
        }
        PostMessageError::SyntaxError => "(targetOrigin does not parse as a URL)".into(),
        PostMessageError::Thrown { reason, .. } => format!("({reason})"),
    }
}
