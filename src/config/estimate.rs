//! `estimate`'s settings: the report to plan from, the fleet (a machine type of the pricing
//! table, or cores and memory), the target size and the training model, each checked.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::pipeline_file::FileText;
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::estimate::plan::{FleetSpec, Machine, PlanRequest, TargetSize, TrainingModel};
use crate::util::units::parse_size;

/// The machine table used without `--pricing`.
pub const DEFAULT_MACHINES: &str = include_str!("../../pricing/machines.toml");

/// What the command line asked of `estimate`.
#[derive(Debug, Clone, Default)]
pub struct EstimateRequest {
    pub report: PathBuf,
    pub machine: Option<String>,
    pub machines: Option<u32>,
    pub cores: Option<u32>,
    pub memory: Option<u64>,
    pub memory_limit: Option<u64>,
    pub usd_per_vcpu_hour: Option<f64>,
    pub target_rows: Option<u64>,
    pub target_bytes: Option<u64>,
    pub pricing: Option<PathBuf>,
    pub model_params: Option<f64>,
    pub gpu_flops: Option<f64>,
    pub mfu: Option<f64>,
    pub gpu_hour_usd: Option<f64>,
    pub budget: Budget,
}

/// A resolved `estimate` run.
#[derive(Debug, Clone)]
pub struct EstimateConfig {
    pub report: PathBuf,
    pub plan: PlanRequest,
    pub budget: Budget,
}

impl EstimateConfig {
    pub fn resolve(request: EstimateRequest) -> Result<Self> {
        let machines = match request.machines {
            Some(0) => return Err(Error::Usage("--machines must be 1 or more".into())),
            m => m.unwrap_or(1),
        };
        let fleet = match &request.machine {
            Some(name) => FleetSpec::Machine {
                machine: machine(name, request.pricing.as_deref())?,
                machines,
            },
            None => FleetSpec::Cores {
                cores: positive("--cores", request.cores)?,
                memory: request.memory,
                machines,
                usd_per_vcpu_hour: price("--usd-per-vcpu-hour", request.usd_per_vcpu_hour)?,
            },
        };
        let target = match (request.target_rows, request.target_bytes) {
            (Some(0), _) => return Err(Error::Usage("--target-rows must be 1 or more".into())),
            (Some(rows), _) => Some(TargetSize::Rows(rows)),
            (None, Some(bytes)) => Some(TargetSize::Bytes(bytes)),
            (None, None) => None,
        };
        Ok(EstimateConfig {
            report: request.report.clone(),
            plan: PlanRequest {
                fleet,
                memory_limit: request.memory_limit,
                target,
                training: training(&request)?,
            },
            budget: request
                .budget
                .for_command("estimate")
                .map_err(Error::Usage)?,
        })
    }
}

fn positive(flag: &str, value: Option<u32>) -> Result<Option<u32>> {
    match value {
        Some(0) => Err(Error::Usage(format!("{flag} must be 1 or more"))),
        v => Ok(v),
    }
}

fn price(flag: &str, value: Option<f64>) -> Result<Option<f64>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::Usage(format!(
            "{flag} must be zero or more, got {v}"
        ))),
        v => Ok(v),
    }
}

/// The training model, when `--model-params` was given (clap makes sure its partners were).
fn training(request: &EstimateRequest) -> Result<Option<TrainingModel>> {
    let (Some(params), Some(gpu_flops), Some(mfu), Some(gpu_hour_usd)) = (
        request.model_params,
        request.gpu_flops,
        request.mfu,
        request.gpu_hour_usd,
    ) else {
        return Ok(None);
    };
    for (flag, value) in [("--model-params", params), ("--gpu-flops", gpu_flops)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(Error::Usage(format!(
                "{flag} must be above zero, got {value}"
            )));
        }
    }
    if !(mfu > 0.0 && mfu <= 1.0) {
        return Err(Error::Usage(format!(
            "--mfu is a fraction of peak, above 0 and at most 1, got {mfu}"
        )));
    }
    price("--gpu-hour-usd", Some(gpu_hour_usd))?;
    Ok(Some(TrainingModel {
        params,
        gpu_flops,
        mfu,
        gpu_hour_usd,
    }))
}

/// The pricing file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineFile {
    as_of: Option<String>,
    #[serde(default)]
    machine: Vec<Spanned<MachineSection>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineSection {
    name: String,
    vcpus: u32,
    memory: String,
    usd_per_hour: f64,
    source: Option<String>,
}

/// The machine type `name` of the table in `pricing` (or the built-in one).
fn machine(name: &str, pricing: Option<&Path>) -> Result<Machine> {
    let (text, path) = match pricing {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("pricing file {}", path.display()), e))?,
            path,
        ),
        None => (
            DEFAULT_MACHINES.to_string(),
            Path::new("pricing/machines.toml (built in)"),
        ),
    };
    let table = machine_table(&text, path)?;
    let found = table.iter().find(|m| m.name == name);
    found.cloned().ok_or_else(|| {
        let names: Vec<&str> = table.iter().map(|m| m.name.as_str()).collect();
        let closest = names
            .iter()
            .min_by_key(|n| strsim::levenshtein(n, name))
            .filter(|n| strsim::levenshtein(n, name) <= 3)
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        Error::Usage(format!(
            "unknown machine type '{name}'{closest}; {} has: {}; give another table with --pricing FILE",
            path.display(),
            names.join(", ")
        ))
    })
}

/// Reads and checks a machine table.
pub fn machine_table(text: &str, path: &Path) -> Result<Vec<Machine>> {
    let file = FileText { text, path };
    let parsed: MachineFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        file.error(offset, e.message().trim())
    })?;
    let as_of = parsed.as_of.map(|d| format!(", {d}")).unwrap_or_default();
    let mut machines: Vec<Machine> = Vec::with_capacity(parsed.machine.len());
    for spanned in parsed.machine {
        let at = spanned.span().start;
        let m = spanned.into_inner();
        let memory_bytes = parse_size(&m.memory).map_err(|e| file.error(at, &e))?;
        if m.vcpus == 0 || !(m.usd_per_hour.is_finite() && m.usd_per_hour >= 0.0) {
            return Err(file.error(
                at,
                &format!("machine '{}' needs vcpus ≥ 1 and usd_per_hour ≥ 0", m.name),
            ));
        }
        if machines.iter().any(|other| other.name == m.name) {
            return Err(file.error(at, &format!("machine '{}' is listed twice", m.name)));
        }
        let source = m.source.unwrap_or_else(|| path.display().to_string());
        machines.push(Machine {
            source: format!("{source}{as_of}"),
            name: m.name,
            vcpus: m.vcpus,
            memory_bytes,
            usd_per_hour: m.usd_per_hour,
        });
    }
    Ok(machines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_reads() {
        let table = machine_table(DEFAULT_MACHINES, Path::new("machines.toml")).unwrap();
        let c7i = table.iter().find(|m| m.name == "c7i.16xlarge").unwrap();
        assert_eq!((c7i.vcpus, c7i.memory_bytes), (64, 128 << 30));
        assert!(c7i.source.starts_with("https://aws.amazon.com/"));
        assert!(table.len() >= 8);
    }

    #[test]
    fn bad_tables_and_names_are_one_line_errors() {
        let path = Path::new("p.toml");
        let twice = "[[machine]]\nname = \"a\"\nvcpus = 2\nmemory = \"4GiB\"\nusd_per_hour = 1.0\n";
        let error = machine_table(&twice.repeat(2), path)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("p.toml:6:"), "{error}");
        assert!(error.contains("listed twice"), "{error}");
        let zero = twice.replace("vcpus = 2", "vcpus = 0");
        assert!(machine_table(&zero, path).is_err());
        let unknown = machine("c7i.16xlarg", None).unwrap_err().to_string();
        assert!(unknown.contains("did you mean c7i.16xlarge?"), "{unknown}");
        assert!(!unknown.contains('\n'));
    }
}
