//! Small stateful models of QEMU's common state machines, each optional: the run
//! state, block nodes, devices and jobs. They answer the commands they know and
//! schedule the events QEMU would send.

use super::reply::Reply;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Which models the fake runs (all by default).
///
/// ```
/// use qemu_qmp::testing::Models;
///
/// let only_runstate = Models { runstate: true, ..Models::none() };
/// # let _ = only_runstate;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Models {
    /// `stop`, `cont`, `system_reset`, `system_powerdown` (an obedient guest: it powers
    /// off and QEMU exits), `quit`, `query-status`, with `STOP`, `RESUME`, `RESET`,
    /// `POWERDOWN`, `SHUTDOWN`; and `migrate` (to completion, or failure for a
    /// destination URI that says `false` or `fail`), `query-migrate`, `migrate_cancel`
    /// with `MIGRATION` events.
    pub runstate: bool,
    /// `blockdev-add`, `blockdev-del`, `query-named-block-nodes`.
    pub block: bool,
    /// `device_add`, `device_del` (with `DEVICE_DELETED` a moment later).
    pub devices: bool,
    /// Jobs started by `blockdev-create`, `blockdev-backup`, `drive-backup`,
    /// `blockdev-mirror`, `drive-mirror`, `block-stream`, `block-commit`, going
    /// created → running → (ready →) waiting → pending → concluded (→ null) with
    /// `JOB_STATUS_CHANGE`; `job-*` and `block-job-*` verbs; `query-jobs`,
    /// `query-block-jobs`.
    pub jobs: bool,
}

impl Models {
    /// Every model.
    pub const fn all() -> Models {
        Models {
            runstate: true,
            block: true,
            devices: true,
            jobs: true,
        }
    }

    /// No model: every command gets a valid default reply, or what is scripted.
    pub const fn none() -> Models {
        Models {
            runstate: false,
            block: false,
            devices: false,
            jobs: false,
        }
    }
}

impl Default for Models {
    fn default() -> Self {
        Models::all()
    }
}

/// A job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    kind: &'static str,
    device: String,
    status: &'static str,
    auto_finalize: bool,
    auto_dismiss: bool,
    /// A block job (BLOCK_JOB_* events, `query-block-jobs`).
    block: bool,
    cancelled: bool,
}

/// The models' state.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub models: Models,
    pub status: &'static str,
    migration: &'static str,
    nodes: BTreeMap<String, Value>,
    devices: BTreeMap<String, String>,
    jobs: BTreeMap<String, Job>,
}

/// Events to send now, and state changes to make later (with their events).
#[derive(Default)]
pub(crate) struct Effects {
    pub events: Vec<(String, Value)>,
    pub later: Vec<(Duration, Step)>,
    /// Close the connection and stop serving after the reply (`quit`).
    pub exit: bool,
}

/// A delayed state change.
pub(crate) enum Step {
    /// A device finishes going away.
    DeviceGone(String),
    /// A job moves on by itself.
    Job(String),
    /// The guest powers off after `system_powerdown`.
    GuestPoweroff,
    /// Migration moves on (to failure, when true).
    Migration(bool),
}

/// How long a job or an unplug takes in the fake.
const TICK: Duration = Duration::from_millis(5);

impl State {
    pub fn new(models: Models, status: &'static str) -> State {
        State {
            models,
            status,
            migration: "none",
            nodes: BTreeMap::new(),
            devices: BTreeMap::new(),
            jobs: BTreeMap::new(),
        }
    }

    /// Answers `name` if a model knows it.
    pub fn handle(&mut self, name: &str, args: &Value, fx: &mut Effects) -> Option<Reply> {
        let m = self.models;
        let s = |k: &str| args[k].as_str().map(str::to_owned);
        match name {
            "query-status" if m.runstate => Some(Reply::ok(json!({
                "running": self.status == "running",
                "status": self.status,
            }))),
            "stop" if m.runstate => {
                if self.status == "running" {
                    self.status = "paused";
                    fx.events.push(("STOP".into(), json!({})));
                }
                Some(Reply::empty())
            }
            "cont" if m.runstate => {
                self.status = "running";
                fx.events.push(("RESUME".into(), json!({})));
                Some(Reply::empty())
            }
            "system_reset" if m.runstate => {
                fx.events.push((
                    "RESET".into(),
                    json!({"guest": false, "reason": "host-qmp-system-reset"}),
                ));
                Some(Reply::empty())
            }
            "system_powerdown" if m.runstate => {
                // An obedient guest: it powers off a moment later, and QEMU exits.
                fx.events.push(("POWERDOWN".into(), json!({})));
                fx.later.push((TICK * 2, Step::GuestPoweroff));
                Some(Reply::empty())
            }
            "migrate" if m.runstate => {
                let uri = s("uri").unwrap_or_default();
                self.migration = "setup";
                fx.events
                    .push(("MIGRATION".into(), json!({"status": "setup"})));
                // A destination that cannot work fails, as `exec:false` does.
                let fails = uri.contains("false") || uri.contains("fail");
                fx.later.push((TICK, Step::Migration(fails)));
                Some(Reply::empty())
            }
            "query-migrate" if m.runstate => {
                let mut info = json!({});
                if self.migration != "none" {
                    info["status"] = json!(self.migration);
                }
                if self.migration == "failed" {
                    info["error-desc"] = json!("the destination ended the stream");
                }
                if self.migration == "completed" {
                    info["ram"] = json!({"transferred": 1024, "remaining": 0, "total": 1024,
                        "duplicate": 0, "normal": 1, "normal-bytes": 1024, "mbps": 1.0,
                        "dirty-sync-count": 1, "postcopy-requests": 0, "page-size": 4096,
                        "dirty-pages-rate": 0, "multifd-bytes": 0, "pages-per-second": 1,
                        "precopy-bytes": 1024, "downtime-bytes": 0, "postcopy-bytes": 0,
                        "dirty-sync-missed-zero-copy": 0, "skipped": 0});
                }
                Some(Reply::ok(info))
            }
            "migrate_cancel" if m.runstate => {
                if matches!(self.migration, "setup" | "active") {
                    self.migration = "cancelled";
                    fx.events
                        .push(("MIGRATION".into(), json!({"status": "cancelled"})));
                }
                Some(Reply::empty())
            }
            "quit" if m.runstate => {
                self.status = "shutdown";
                fx.events.push((
                    "SHUTDOWN".into(),
                    json!({"guest": false, "reason": "host-qmp-quit"}),
                ));
                fx.exit = true;
                Some(Reply::empty())
            }
            "blockdev-add" if m.block => {
                let node = s("node-name").unwrap_or_default();
                if self.nodes.contains_key(&node) {
                    return Some(Reply::error(
                        "GenericError",
                        format!("Duplicate nodes with node-name='{node}'"),
                    ));
                }
                self.nodes.insert(node, args.clone());
                Some(Reply::empty())
            }
            "blockdev-del" if m.block => {
                let node = s("node-name").unwrap_or_default();
                if self.nodes.remove(&node).is_none() {
                    return Some(Reply::error(
                        "GenericError",
                        format!("Failed to find node with node-name='{node}'"),
                    ));
                }
                Some(Reply::empty())
            }
            "query-named-block-nodes" if m.block => {
                let list: Vec<Value> = self
                    .nodes
                    .iter()
                    .map(|(n, a)| {
                        json!({
                            "node-name": n,
                            "drv": a["driver"],
                            "ro": a["read-only"].as_bool().unwrap_or(false),
                            "file": a["filename"].as_str().unwrap_or(n),
                        })
                    })
                    .collect();
                Some(Reply::ok(Value::Array(list)))
            }
            "device_add" if m.devices => {
                let id = s("id").unwrap_or_else(|| format!("device{}", self.devices.len()));
                if self.devices.contains_key(&id) {
                    return Some(Reply::error(
                        "GenericError",
                        format!("Duplicate device ID '{id}' for device"),
                    ));
                }
                self.devices.insert(id, s("driver").unwrap_or_default());
                Some(Reply::empty())
            }
            "device_del" if m.devices => {
                let id = s("id").unwrap_or_default();
                if !self.devices.contains_key(&id) {
                    return Some(Reply::error(
                        "DeviceNotFound",
                        format!("Device '{id}' not found"),
                    ));
                }
                fx.later.push((TICK * 2, Step::DeviceGone(id)));
                Some(Reply::empty())
            }
            "blockdev-create" | "blockdev-backup" | "drive-backup" | "blockdev-mirror"
            | "drive-mirror" | "block-stream" | "block-commit"
                if m.jobs =>
            {
                Some(self.start_job(name, args, fx))
            }
            "query-jobs" if m.jobs => Some(Reply::ok(Value::Array(
                self.jobs
                    .iter()
                    .map(|(id, j)| {
                        json!({"id": id, "type": j.kind, "status": j.status,
                               "current-progress": 0, "total-progress": 0})
                    })
                    .collect(),
            ))),
            "query-block-jobs" if m.jobs => Some(Reply::ok(Value::Array(
                self.jobs
                    .iter()
                    .filter(|(_, j)| j.block)
                    .map(|(_, j)| {
                        json!({"type": j.kind, "device": j.device, "status": j.status,
                               "ready": j.status == "ready", "busy": j.status == "running",
                               "auto-finalize": j.auto_finalize, "auto-dismiss": j.auto_dismiss,
                               "io-status": "ok"})
                    })
                    .collect(),
            ))),
            "job-dismiss" | "job-finalize" | "job-complete" | "job-cancel"
            | "block-job-dismiss" | "block-job-finalize" | "block-job-complete"
            | "block-job-cancel"
                if m.jobs =>
            {
                let id = s("id").or_else(|| s("device")).unwrap_or_default();
                let verb = name.rsplit('-').next().unwrap_or_default();
                Some(self.job_verb(&id, verb, fx))
            }
            _ => None,
        }
    }

    fn start_job(&mut self, name: &str, args: &Value, fx: &mut Effects) -> Reply {
        let kind = match name {
            "blockdev-create" => "create",
            "blockdev-backup" | "drive-backup" => "backup",
            "blockdev-mirror" | "drive-mirror" => "mirror",
            "block-stream" => "stream",
            _ => "commit",
        };
        let device = args["device"]
            .as_str()
            .or_else(|| args["job-id"].as_str())
            .unwrap_or_default()
            .to_owned();
        let id = args["job-id"].as_str().unwrap_or(&device).to_owned();
        if self.jobs.contains_key(&id) {
            return Reply::error("GenericError", format!("Job ID '{id}' already in use"));
        }
        let job = Job {
            kind,
            device,
            status: "created",
            auto_finalize: args["auto-finalize"].as_bool().unwrap_or(true),
            // blockdev-create's job waits to be dismissed.
            auto_dismiss: args["auto-dismiss"].as_bool().unwrap_or(kind != "create"),
            block: kind != "create",
            cancelled: false,
        };
        self.jobs.insert(id.clone(), job);
        fx.events.push(status_change(&id, "created"));
        self.set_status(&id, "running", fx);
        fx.later.push((TICK, Step::Job(id)));
        Reply::empty()
    }

    fn set_status(&mut self, id: &str, status: &'static str, fx: &mut Effects) {
        if let Some(j) = self.jobs.get_mut(id) {
            j.status = status;
            fx.events.push(status_change(id, status));
        }
    }

    /// A job's next step by itself.
    pub fn advance(&mut self, step: Step, fx: &mut Effects) {
        match step {
            Step::DeviceGone(id) => {
                if self.devices.remove(&id).is_some() {
                    fx.events.push((
                        "DEVICE_DELETED".into(),
                        json!({"device": id, "path": format!("/machine/peripheral/{id}")}),
                    ));
                }
            }
            Step::GuestPoweroff => {
                self.status = "shutdown";
                fx.events.push((
                    "SHUTDOWN".into(),
                    json!({"guest": true, "reason": "guest-shutdown"}),
                ));
                fx.exit = true;
            }
            Step::Migration(fails) => match self.migration {
                "setup" => {
                    self.migration = "active";
                    fx.events
                        .push(("MIGRATION".into(), json!({"status": "active"})));
                    fx.later.push((TICK, Step::Migration(fails)));
                }
                "active" => {
                    let end = if fails { "failed" } else { "completed" };
                    self.migration = end;
                    if !fails {
                        self.status = "postmigrate";
                        fx.events.push(("STOP".into(), json!({})));
                    }
                    fx.events.push(("MIGRATION".into(), json!({"status": end})));
                }
                _ => {}
            },
            Step::Job(id) => {
                let Some(j) = self.jobs.get(&id).cloned() else {
                    return;
                };
                match j.status {
                    "running" if j.kind == "mirror" => {
                        self.set_status(&id, "ready", fx);
                        fx.events.push((
                            "BLOCK_JOB_READY".into(),
                            json!({"type": j.kind, "device": id, "len": 0, "offset": 0, "speed": 0}),
                        ));
                    }
                    "running" => self.finish(&id, fx),
                    _ => {}
                }
            }
        }
    }

    /// running/ready → waiting → pending → (finalized) concluded → (dismissed) null.
    fn finish(&mut self, id: &str, fx: &mut Effects) {
        self.set_status(id, "waiting", fx);
        self.set_status(id, "pending", fx);
        let Some(j) = self.jobs.get(id).cloned() else {
            return;
        };
        if j.auto_finalize {
            self.conclude(id, fx);
        }
    }

    fn conclude(&mut self, id: &str, fx: &mut Effects) {
        let Some(j) = self.jobs.get(id).cloned() else {
            return;
        };
        if j.block {
            let name = if j.cancelled {
                "BLOCK_JOB_CANCELLED"
            } else {
                "BLOCK_JOB_COMPLETED"
            };
            fx.events.push((
                name.into(),
                json!({"type": j.kind, "device": id, "len": 0, "offset": 0, "speed": 0}),
            ));
        }
        self.set_status(id, "concluded", fx);
        if j.auto_dismiss {
            self.set_status(id, "null", fx);
            self.jobs.remove(id);
        }
    }

    fn job_verb(&mut self, id: &str, verb: &str, fx: &mut Effects) -> Reply {
        let Some(j) = self.jobs.get(id).cloned() else {
            return Reply::error("GenericError", format!("Job not found: '{id}'"));
        };
        let refuse = || {
            Reply::error(
                "GenericError",
                format!(
                    "Job '{id}' in state '{}' cannot accept command verb '{verb}'",
                    j.status
                ),
            )
        };
        match (verb, j.status) {
            ("dismiss", "concluded") => {
                self.set_status(id, "null", fx);
                self.jobs.remove(id);
            }
            ("finalize", "pending") => self.conclude(id, fx),
            ("complete", "ready") => self.finish(id, fx),
            ("cancel", "created" | "running" | "ready" | "paused" | "waiting" | "pending") => {
                if let Some(j) = self.jobs.get_mut(id) {
                    j.cancelled = true;
                }
                self.set_status(id, "aborting", fx);
                self.conclude(id, fx);
            }
            _ => return refuse(),
        }
        Reply::empty()
    }
}

fn status_change(id: &str, status: &str) -> (String, Value) {
    (
        "JOB_STATUS_CHANGE".into(),
        json!({"id": id, "status": status}),
    )
}

/// A `{}` object.
pub(crate) fn empty() -> Value {
    Value::Object(Map::new())
}
