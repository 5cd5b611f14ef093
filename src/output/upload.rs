//! Uploads a written dataset to an object-store prefix all or nothing: every file goes up
//! as a multipart upload, and no upload is completed — made visible — until every part of
//! every file is in. A failure before that aborts them all, so the prefix is left as it was;
//! once all are completed and the manifest is put, the files of an earlier output there that
//! the new one does not replace are deleted, so that it is replaced whole, as a local folder
//! is. Objects no manifest lists are never deleted (see [`super::guard`]).
//!
//! A process killed mid-upload cannot abort its uploads: their parts stay, invisible but
//! billed, until aborted (`aws s3api list-multipart-uploads` / `abort-multipart-upload`, or a
//! bucket lifecycle rule such as S3's `AbortIncompleteMultipartUpload`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use object_store::path::Path as ObjectPath;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};

use super::guard;
use super::manifest::{MANIFEST, Manifest};
use crate::error::one_line;
use crate::storage::OutputLocation;

/// The size of each part but the last (S3 wants at least 5 MiB).
pub const PART_SIZE: u64 = 8 << 20;

/// Parts of one file in flight at once.
const PARTS_IN_FLIGHT: usize = 4;

/// An upload begun, with the object it makes.
struct Begun {
    path: ObjectPath,
    upload: Box<dyn MultipartUpload>,
}

/// Uploads the files of `manifest` from `dir` below the output's prefix, commits them
/// together and puts the manifest; on failure, nothing new is left at the prefix. What is
/// there is checked first: files prepcost did not write are refused, or with `overwrite`
/// kept.
pub async fn commit(
    output: &OutputLocation,
    dir: &Path,
    manifest: &Manifest,
    overwrite: bool,
) -> Result<(), String> {
    let existing = guard::remote_existing(output).await?;
    existing.check(overwrite)?;
    let mut begun: Vec<Begun> = Vec::with_capacity(manifest.files.len());
    if let Err(e) = begin_all(output, dir, manifest, &mut begun).await {
        abort_all(&mut begun).await;
        return Err(e);
    }
    // Every part is in: make the files visible, then the manifest that lists them.
    let mut completed: Vec<ObjectPath> = Vec::with_capacity(begun.len());
    for index in 0..begun.len() {
        if let Err(e) = begun[index].upload.complete().await {
            let message = format!(
                "completing the upload of {}: {}",
                begun[index].path,
                one_line(&e.to_string())
            );
            abort_all(&mut begun[index..]).await;
            delete(output, completed).await;
            return Err(message);
        }
        completed.push(begun[index].path.clone());
    }
    let manifest_path = output.path.clone().join(MANIFEST);
    let put = output
        .store
        .put(&manifest_path, PutPayload::from(manifest.to_json()))
        .await;
    if let Err(e) = put {
        delete(output, completed).await;
        return Err(format!("putting {MANIFEST}: {}", one_line(&e.to_string())));
    }
    let stale: Vec<ObjectPath> = existing
        .ours()
        .into_iter()
        .flat_map(|earlier| &earlier.files)
        .filter(|f| !manifest.files.iter().any(|n| n.name == f.name))
        .map(|f| output.path.clone().join(f.name.as_str()))
        .collect();
    if !stale.is_empty() {
        let removed: Vec<_> = output
            .store
            .delete_stream(futures::stream::iter(stale.into_iter().map(Ok)).boxed())
            .collect()
            .await;
        if let Some(Err(e)) = removed.into_iter().find(Result::is_err) {
            return Err(format!(
                "the new dataset is in place, but removing a file of the earlier one failed: {}",
                one_line(&e.to_string())
            ));
        }
    }
    Ok(())
}

/// Begins an upload of every file of `manifest` and sends its parts, stopping at the first
/// failure; `begun` gets every upload begun, for completing or aborting.
async fn begin_all(
    output: &OutputLocation,
    dir: &Path,
    manifest: &Manifest,
    begun: &mut Vec<Begun>,
) -> Result<(), String> {
    for file in &manifest.files {
        let name = file.name.as_str();
        let path = output.path.clone().join(name);
        let upload = output.store.put_multipart(&path).await.map_err(|e| {
            format!(
                "starting the upload of {name}: {}",
                one_line(&e.to_string())
            )
        })?;
        begun.push(Begun { path, upload });
        let upload = begun.last_mut().expect("just pushed").upload.as_mut();
        send_parts(upload, &dir.join(name))
            .await
            .map_err(|e| format!("uploading {name}: {e}"))?;
    }
    Ok(())
}

/// Sends the file at `path` as parts of [`PART_SIZE`], a few at a time.
async fn send_parts(upload: &mut dyn MultipartUpload, path: &Path) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut in_flight = FuturesUnordered::new();
    let mut offset = 0;
    loop {
        let len = PART_SIZE.min(size - offset);
        let mut part = vec![0; len as usize];
        file.read_exact_at(&mut part, offset)
            .map_err(|e| e.to_string())?;
        in_flight.push(upload.put_part(PutPayload::from(part)));
        if in_flight.len() >= PARTS_IN_FLIGHT
            && let Some(Err(e)) = in_flight.next().await
        {
            return Err(one_line(&e.to_string()));
        }
        offset += len;
        if offset >= size {
            break;
        }
    }
    while let Some(done) = in_flight.next().await {
        done.map_err(|e| one_line(&e.to_string()))?;
    }
    Ok(())
}

/// Aborts uploads, so that their parts are deleted; failures are logged, not raised: the
/// run has failed already.
async fn abort_all(begun: &mut [Begun]) {
    for b in begun {
        if let Err(e) = b.upload.abort().await {
            tracing::warn!("aborting the upload of {}: {e}", b.path);
        }
    }
}

/// Deletes objects this run made visible before a later one failed to commit.
async fn delete(output: &OutputLocation, paths: Vec<ObjectPath>) {
    if paths.is_empty() {
        return;
    }
    let stream = futures::stream::iter(paths.into_iter().map(Ok)).boxed();
    let removed: Vec<_> = output.store.delete_stream(stream).collect().await;
    for e in removed.into_iter().filter_map(Result::err) {
        tracing::warn!("removing a partly committed output object: {e}");
    }
}
