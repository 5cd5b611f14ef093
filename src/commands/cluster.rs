//! `prepcost cluster scheduler|executor`: a node of a Ballista cluster that knows prepcost's
//! functions, serving until the process is stopped.

use crate::engine::cluster::{self, Node};
use crate::error::Result;

/// Runs the node until it fails or the process is stopped.
pub async fn serve(node: &Node) -> Result<()> {
    match node {
        Node::Scheduler(settings) => cluster::serve_scheduler(settings).await,
        Node::Executor(settings) => cluster::serve_executor(settings).await,
    }
}
