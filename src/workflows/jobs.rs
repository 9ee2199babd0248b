//! Block jobs: start one, follow its status, wait for its end with its error, and
//! cancel, complete, finalize or dismiss it.
//!
//! ```no_run
//! use qemu_qmp::workflows::jobs::{Job, End};
//! use qemu_qmp::{commands, types as q};
//! use std::time::Duration;
//!
//! # async fn f(client: qemu_qmp::Client) -> qemu_qmp::workflows::Result<()> {
//! let create = commands::BlockdevCreate {
//!     job_id: "create0".into(),
//!     options: q::BlockdevCreateOptions::new(q::BlockdevCreateOptionsBranch::Qcow2(
//!         q::BlockdevCreateOptionsQcow2::new(q::BlockdevRef::Reference("file0".into()), 1 << 30),
//!     )),
//! };
//! let mut job = Job::start(&client, "create0", create).await?;
//! // blockdev-create's job waits to be dismissed: wait() stops at `concluded`.
//! assert_eq!(job.wait(Some(Duration::from_secs(60))).await?, End::Concluded);
//! job.dismiss().await?;
//! # Ok(()) }
//! ```

use super::{Result, WorkflowError};
use crate::types::{JobStatus, JobType};
use crate::{commands, events, Client, Command, TypedListener};
use std::time::{Duration, Instant};

/// Where [`Job::wait`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The job is `ready` (a mirror): [`Job::complete`] it (or cancel it).
    Ready,
    /// The job is `pending` and was started with `auto-finalize: false`:
    /// [`Job::finalize`] it.
    Pending,
    /// The job succeeded and is `concluded`, waiting to be dismissed
    /// (`auto-dismiss: false`, or `blockdev-create`): [`Job::dismiss`] it.
    Concluded,
    /// The job succeeded and is gone (`auto-dismiss`).
    Dismissed,
}

/// A running job: see the [module documentation](self).
pub struct Job {
    client: Client,
    id: String,
    changes: TypedListener<events::JobStatusChange>,
    ends: TypedListener<events::BlockJobCompleted>,
    cancels: TypedListener<events::BlockJobCancelled>,
    auto_finalize: bool,
    auto_dismiss: bool,
    last: Option<JobStatus>,
    aborted: bool,
    error: Option<String>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("last", &self.last)
            .finish()
    }
}

/// Without a deadline, how often [`Job::wait`] makes sure the job still exists.
const EXISTS_CHECK: Duration = Duration::from_secs(10);

/// The commands whose jobs wait to be dismissed even with the defaults.
const MANUAL_DISMISS: &[&str] = &[
    "blockdev-create",
    "x-blockdev-amend",
    "snapshot-save",
    "snapshot-load",
    "snapshot-delete",
];

impl Job {
    /// Sends `cmd`, which starts the job `id`, having subscribed to its events first.
    /// The job's `auto-finalize` and `auto-dismiss` are read from the command's
    /// arguments (QEMU's defaults otherwise).
    pub async fn start<C: Command>(client: &Client, id: &str, cmd: C) -> Result<Job> {
        let changes = client.listen_for::<events::JobStatusChange>();
        let ends = client.listen_for::<events::BlockJobCompleted>();
        let cancels = client.listen_for::<events::BlockJobCancelled>();
        let args = cmd
            .arguments()
            .and_then(|a| serde_json::to_value(a).ok())
            .unwrap_or_default();
        let flag = |k: &str, default: bool| args[k].as_bool().unwrap_or(default);
        let name = cmd.name().to_owned();
        client.execute(cmd).await?;
        Ok(Job {
            client: client.clone(),
            id: id.to_owned(),
            changes,
            ends,
            cancels,
            auto_finalize: flag("auto-finalize", true),
            auto_dismiss: flag("auto-dismiss", !MANUAL_DISMISS.contains(&name.as_str())),
            last: None,
            aborted: false,
            error: None,
        })
    }

    /// Follows a job that is already running (its past transitions are not known).
    pub fn attach(client: &Client, id: &str, auto_finalize: bool, auto_dismiss: bool) -> Job {
        Job {
            client: client.clone(),
            id: id.to_owned(),
            changes: client.listen_for::<events::JobStatusChange>(),
            ends: client.listen_for::<events::BlockJobCompleted>(),
            cancels: client.listen_for::<events::BlockJobCancelled>(),
            auto_finalize,
            auto_dismiss,
            last: None,
            aborted: false,
            error: None,
        }
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The last status seen.
    pub fn status(&self) -> Option<JobStatus> {
        self.last.clone()
    }

    /// The next status change of this job (waiting at most `timeout`).
    pub async fn next_status(&mut self, timeout: Option<Duration>) -> Result<JobStatus> {
        let id = self.id.clone();
        let ev = self.changes.wait(move |e| e.id == id, timeout).await?;
        self.note(&ev.status);
        Ok(ev.status)
    }

    fn note(&mut self, status: &JobStatus) {
        if *status == JobStatus::Aborting {
            self.aborted = true;
        }
        self.last = Some(status.clone());
    }

    /// `(current, total)` progress, from `query-jobs`; `None` when the job is gone.
    pub async fn progress(&self) -> Result<Option<(i64, i64)>> {
        let jobs = self.client.execute(commands::QueryJobs).await?;
        Ok(jobs
            .iter()
            .find(|j| j.id == self.id)
            .map(|j| (j.current_progress, j.total_progress)))
    }

    /// Its type, from `query-jobs`.
    pub async fn kind(&self) -> Result<Option<JobType>> {
        let jobs = self.client.execute(commands::QueryJobs).await?;
        Ok(jobs.into_iter().find(|j| j.id == self.id).map(|j| j.r#type))
    }

    /// Waits until the job needs the caller ([`End::Ready`], [`End::Pending`]) or has
    /// ended: success is [`End::Concluded`] or [`End::Dismissed`]; failure or
    /// cancellation is an error with QEMU's message. At most `timeout` in all.
    pub async fn wait(&mut self, timeout: Option<Duration>) -> Result<End> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            match self.last {
                Some(JobStatus::Ready) => return Ok(End::Ready),
                Some(JobStatus::Pending) if !self.auto_finalize => return Ok(End::Pending),
                Some(JobStatus::Concluded) => {
                    self.read_error().await;
                    if let Some(e) = self.failure() {
                        return Err(e);
                    }
                    if !self.auto_dismiss {
                        return Ok(End::Concluded);
                    }
                }
                Some(JobStatus::Null) => {
                    self.collect_block_events();
                    return match self.failure() {
                        Some(e) => Err(e),
                        None => Ok(End::Dismissed),
                    };
                }
                _ => {}
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            // In steps: a job that vanishes without a word is noticed within one.
            let step = left.map_or(EXISTS_CHECK, |l| l.min(EXISTS_CHECK));
            match self.next_status(Some(step)).await {
                Ok(_) => {}
                Err(WorkflowError::Client(crate::Error::Timeout { .. })) => {
                    self.check_exists().await?;
                    if let (Some(d), Some(t)) = (deadline, timeout) {
                        if Instant::now() >= d {
                            return Err(crate::Error::Timeout {
                                during: crate::Waiting::Event(format!(
                                    "JOB_STATUS_CHANGE of job '{}'",
                                    self.id
                                )),
                                after: t,
                            }
                            .into());
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fails with [`WorkflowError::JobVanished`] when `query-jobs` does not list the job.
    async fn check_exists(&mut self) -> Result<()> {
        let jobs = self.client.execute(commands::QueryJobs).await?;
        if jobs.iter().any(|j| j.id == self.id) {
            return Ok(());
        }
        self.collect_block_events();
        if let Some(e) = self.failure() {
            return Err(e);
        }
        Err(WorkflowError::JobVanished {
            id: self.id.clone(),
            last: self.last.clone(),
        })
    }

    /// The error `query-jobs` reports for the concluded job.
    async fn read_error(&mut self) {
        if let Ok(jobs) = self.client.execute(commands::QueryJobs).await {
            if let Some(j) = jobs.iter().find(|j| j.id == self.id) {
                if j.error.is_some() {
                    self.error = j.error.clone();
                }
            }
        }
        self.collect_block_events();
    }

    /// Block jobs' own end events, which carry the error when the job is dismissed
    /// before `query-jobs` can be read.
    fn collect_block_events(&mut self) {
        while let Some(ev) = self.ends.listener().try_get() {
            if let Ok(ev) = ev.data::<events::BlockJobCompleted>() {
                if ev.device == self.id && ev.error.is_some() {
                    self.error = ev.error;
                }
            }
        }
        while let Some(ev) = self.cancels.listener().try_get() {
            if let Ok(ev) = ev.data::<events::BlockJobCancelled>() {
                if ev.device == self.id {
                    self.aborted = true;
                }
            }
        }
    }

    fn failure(&self) -> Option<WorkflowError> {
        match (&self.error, self.aborted) {
            (Some(m), _) => Some(WorkflowError::JobFailed {
                id: self.id.clone(),
                message: m.clone(),
            }),
            (None, true) => Some(WorkflowError::JobCancelled {
                id: self.id.clone(),
            }),
            (None, false) => None,
        }
    }

    /// `job-cancel`.
    pub async fn cancel(&mut self) -> Result<()> {
        let id = self.id.clone();
        self.act(commands::JobCancel { id }).await
    }

    /// `job-complete` (a ready mirror switches over).
    pub async fn complete(&mut self) -> Result<()> {
        let id = self.id.clone();
        self.act(commands::JobComplete { id }).await
    }

    /// `job-finalize` (a pending job started with `auto-finalize: false`).
    pub async fn finalize(&mut self) -> Result<()> {
        let id = self.id.clone();
        self.act(commands::JobFinalize { id }).await
    }

    /// `job-dismiss` (a concluded job started with `auto-dismiss: false`).
    pub async fn dismiss(&mut self) -> Result<()> {
        let id = self.id.clone();
        self.act(commands::JobDismiss { id }).await
    }

    /// Sends a command that moves the job on.
    async fn act<C: Command>(&mut self, cmd: C) -> Result<()> {
        // Its next transitions are what wait() and next_status() follow now.
        self.last = None;
        self.client.execute(cmd).await?;
        Ok(())
    }
}
