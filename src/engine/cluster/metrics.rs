//! The executors' compute time on a remote cluster. The client's planner records every plan
//! it sends; when asked, the compute time of each recorded job is read from the scheduler's
//! task metrics (the `elapsed_compute` of every operator of every task, summed) and added to
//! a running total.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::planner::BallistaQueryPlanner;
use ballista_core::serde::protobuf::operator_metric::Metric;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::{GetJobMetricsParams, GetJobMetricsResult};
use datafusion::catalog::Session;
use datafusion::common::Result as DfResult;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::protobuf::LogicalPlanNode;

use super::RemoteCompute;
use crate::error::{Error, Result};

/// The jobs sent to the scheduler at `scheduler` (an `http://` URL), and the compute time of
/// those already read.
#[derive(Debug)]
pub struct JobLog {
    scheduler: String,
    sent: Mutex<Vec<Arc<dyn ExecutionPlan>>>,
    counted: Mutex<Duration>,
}

impl JobLog {
    pub fn new(scheduler: String) -> Arc<Self> {
        Arc::new(JobLog {
            scheduler,
            sent: Mutex::default(),
            counted: Mutex::default(),
        })
    }

    fn record(&self, plan: &Arc<dyn ExecutionPlan>) {
        if plan
            .downcast_ref::<DistributedQueryExec<LogicalPlanNode>>()
            .is_some()
        {
            lock(&self.sent).push(Arc::clone(plan));
        }
    }
}

#[async_trait]
impl RemoteCompute for JobLog {
    async fn total(&self) -> Result<Duration> {
        let sent = std::mem::take(&mut *lock(&self.sent));
        let jobs: Vec<String> = sent
            .iter()
            .filter_map(|plan| plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>())
            .filter_map(|exec| exec.job_id())
            .map(|job| job.to_string())
            .collect();
        let mut added = Duration::ZERO;
        if !jobs.is_empty() {
            let failed = |e: &dyn std::fmt::Display| Error::Engine {
                context: format!("reading task metrics from the scheduler {}", self.scheduler),
                message: crate::error::clean(&e.to_string()),
            };
            let mut scheduler = SchedulerGrpcClient::connect(self.scheduler.clone())
                .await
                .map_err(|e| failed(&e))?;
            for job_id in jobs {
                let metrics = scheduler
                    .get_job_metrics(GetJobMetricsParams { job_id })
                    .await
                    .map_err(|e| failed(&e))?;
                added += compute_time(&metrics.into_inner());
            }
        }
        let mut counted = lock(&self.counted);
        *counted += added;
        Ok(*counted)
    }
}

/// The `elapsed_compute` of every operator of every stage of a job.
fn compute_time(job: &GetJobMetricsResult) -> Duration {
    let nanos = job
        .stages
        .iter()
        .flat_map(|stage| &stage.operators)
        .flat_map(|operator| &operator.metrics)
        .filter_map(|metric| match metric.metric {
            Some(Metric::ElapseTime(nanos)) => Some(nanos),
            _ => None,
        })
        .sum();
    Duration::from_nanos(nanos)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Ballista's planner, recording in `log` every plan it sends to the cluster.
#[derive(Debug)]
pub struct RecordingPlanner {
    pub ballista: BallistaQueryPlanner<LogicalPlanNode>,
    pub log: Arc<JobLog>,
}

#[async_trait]
impl QueryPlanner for RecordingPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn Session,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let plan = self
            .ballista
            .create_physical_plan(logical_plan, session_state)
            .await?;
        self.log.record(&plan);
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballista_core::serde::protobuf::{JobStageMetrics, OperatorMetric, OperatorWithMetrics};

    #[test]
    fn compute_time_sums_every_operator_of_every_stage() {
        let operator = |nanos: &[u64]| OperatorWithMetrics {
            metrics: nanos
                .iter()
                .map(|&n| OperatorMetric {
                    partition: None,
                    metric: Some(Metric::ElapseTime(n)),
                })
                .chain([OperatorMetric {
                    partition: None,
                    metric: Some(Metric::OutputRows(1_000_000)),
                }])
                .collect(),
            ..Default::default()
        };
        let job = GetJobMetricsResult {
            stages: vec![
                JobStageMetrics {
                    operators: vec![operator(&[100, 200]), operator(&[300])],
                    ..Default::default()
                },
                JobStageMetrics {
                    operators: vec![operator(&[1_000])],
                    ..Default::default()
                },
            ],
        };
        assert_eq!(compute_time(&job), Duration::from_nanos(1_600));
    }
}
