//! The stage's memory: the bands per pass that fit the free part of the memory limit (or a
//! refusal that names what would fit), and the reservation that holds what the stage uses.

use std::sync::Arc;

use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};

use super::params::MinhashParams;
use crate::stages::lsh::MemoryNeed;
use crate::stages::stage::{StageError, StageInput};
use crate::util::units::{count, format_size};

/// Memory held by the stage's structures, reserved in the session's pool.
pub(super) struct Budget {
    reservation: MemoryReservation,
    pub(super) peak: usize,
    /// Executors build the band tables: there are no passes to split them into.
    distributed: bool,
}

impl Budget {
    /// A reservation of nothing yet in `pool`.
    pub(super) fn new(pool: &Arc<dyn MemoryPool>, distributed: bool) -> Self {
        Budget {
            reservation: MemoryConsumer::new("minhash stage").register(pool),
            peak: 0,
            distributed,
        }
    }

    pub(super) fn grow(&mut self, bytes: usize, what: &str) -> Result<(), StageError> {
        self.reservation.try_grow(bytes).map_err(|_| {
            let advice = match self.distributed {
                true => "raise --memory-limit",
                false => "raise --memory-limit or set bands_per_pass lower",
            };
            StageError::Refused(format!(
                "the memory pool could not grant {} for {what} (other work holds the rest of --memory-limit); {advice}",
                format_size(bytes as u64)
            ))
        })?;
        self.peak = self.peak.max(self.reservation.size());
        Ok(())
    }

    pub(super) fn shrink(&mut self, bytes: usize) {
        self.reservation.shrink(bytes.min(self.reservation.size()));
    }
}

/// The memory forecast for the input and the bands per pass chosen from it.
pub(super) struct Plan {
    pub(super) need: MemoryNeed,
    pub(super) bands_per_pass: usize,
}

/// Forecasts the memory for the input's rows and chooses the bands per pass: as many as the
/// free part of `pool` holds, or those asked for; refuses when not even one band fits, or the
/// bands asked for do not.
pub(super) fn plan(
    pool: &Arc<dyn MemoryPool>,
    params: &MinhashParams,
    input: &StageInput<'_>,
) -> Result<Plan, StageError> {
    let rows = input.stats.rows;
    if rows >= u64::from(u32::MAX) {
        return Err(StageError::Refused(format!(
            "its input has {} rows; a minhash stage handles fewer than {}",
            count(rows),
            count(u64::from(u32::MAX))
        )));
    }
    let limit = match pool.memory_limit() {
        MemoryLimit::Finite(limit) => limit as u64,
        _ => u64::MAX,
    };
    let free = limit.saturating_sub(pool.reserved() as u64);
    // Verification holds the texts: shared with an input in memory, read anew from a spilled
    // one (UTF-8 bytes and 4-byte offsets).
    let verify_texts = params.verify_threshold.map(|_| {
        if input.spilled {
            input.stats.text_bytes + rows * 4
        } else {
            0
        }
    });
    let mut need = MemoryNeed::new(rows, verify_texts);
    let mut asked = params.bands_per_pass;
    if input.distributed {
        // Executors build the band tables, all bands at once; this process holds the row
        // index, union-find and what comes back (the candidates, grown as they arrive).
        need = MemoryNeed {
            per_band: 0,
            ..MemoryNeed::new(rows, None)
        };
        asked = None;
    }
    let fitting = need.bands_fitting(free, params.bands);
    let bands_per_pass = match asked {
        None if fitting >= 1 => fitting,
        Some(asked) if asked <= fitting => asked,
        asked => {
            let wanted = asked.unwrap_or(1);
            let needed = need.with_bands(wanted);
            let raise_to = format_size(limit.saturating_add(needed.saturating_sub(free)));
            let advice = if asked.is_some() && fitting >= 1 {
                format!(
                    "set bands_per_pass = {fitting} (more passes) or raise --memory-limit to at least {raise_to}"
                )
            } else {
                format!("raise --memory-limit to at least {raise_to}")
            };
            return Err(StageError::Refused(format!(
                "needs {} for {} rows with {wanted} band(s) per pass (band tables {} each, row index and union-find {}), but {} of the {} memory limit is free; {advice}",
                format_size(needed),
                count(rows),
                format_size(need.per_band),
                format_size(need.fixed),
                format_size(free),
                format_size(limit),
            )));
        }
    };
    Ok(Plan {
        need,
        bands_per_pass,
    })
}
