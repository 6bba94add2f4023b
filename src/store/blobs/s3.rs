//! An S3-compatible bucket, through the `object_store` crate (its request signing, retries
//! and listing): `s3://bucket/prefix`, with the endpoint, region and credentials from the
//! usual `AWS_*` environment variables (`AWS_ENDPOINT_URL`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP` for a plain-HTTP endpoint).
//! A PUT is whole or absent once it returns, so there are no temporaries to clean.

use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ObjectStore, PutPayload, RetryConfig};

use super::{is_name, BlobFuture, BlobStore, Unavailable};

pub struct S3Bucket {
    store: PrefixStore<AmazonS3>,
}

impl S3Bucket {
    /// The bucket of `url` (`s3://bucket` or `s3://bucket/prefix`), checked to answer: a
    /// wrong name, endpoint or key stops the start here, naming the bucket.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let Some(rest) = url.strip_prefix("s3://") else {
            bail!("blob store {url:?}: expected s3://bucket/prefix");
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("blob store {url:?}: no bucket named");
        }
        // A few quick retries, not the crate's default of ten over three minutes: a store that
        // went away answers the request 503 within seconds, and it can be retried.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(10),
        };
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry)
            .build()
            .with_context(|| format!("blob store {url}"))?;
        let store = PrefixStore::new(s3, prefix.trim_matches('/'));
        store
            .list_with_delimiter(None)
            .await
            .with_context(|| format!("blob store {url}: the bucket does not answer"))?;
        Ok(S3Bucket { store })
    }
}

/// The bucket's error with `what` it was doing; one that is not about the object or the
/// request (the server unreachable, timing out, failing) is marked `Unavailable`.
fn failed(e: object_store::Error, what: String) -> anyhow::Error {
    let unavailable = matches!(e, object_store::Error::Generic { .. });
    let e = anyhow::Error::new(e).context(what);
    if unavailable {
        e.context(Unavailable)
    } else {
        e
    }
}

/// The object's path for a blob name; a name `new_name` could not have made is refused.
fn path(name: &str) -> anyhow::Result<Path> {
    if !is_name(name) {
        bail!("not a blob name: {name:?}");
    }
    Ok(Path::from(name))
}

impl BlobStore for S3Bucket {
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            self.store
                .put(&path(name)?, PutPayload::from(bytes))
                .await
                .map_err(|e| failed(e, format!("storing blob {name}")))?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, name: &'a str) -> BlobFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let reading = || format!("reading blob {name}");
            let object = self.store.get(&path(name)?).await;
            let bytes = object
                .map_err(|e| failed(e, reading()))?
                .bytes()
                .await
                .map_err(|e| failed(e, reading()))?;
            Ok(bytes.to_vec())
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            match self.store.delete(&path(name)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(failed(e, format!("deleting blob {name}"))),
            }
        })
    }

    fn stored_before(&self, age: Duration) -> BlobFuture<'_, Vec<String>> {
        Box::pin(async move {
            let before = chrono::Utc::now() - chrono::Duration::from_std(age)?;
            let objects: Vec<_> = self
                .store
                .list(None)
                .try_collect()
                .await
                .map_err(|e| failed(e, "listing blobs".into()))?;
            Ok(objects
                .into_iter()
                .filter(|o| o.last_modified < before)
                .map(|o| o.location.to_string())
                .filter(|name| is_name(name))
                .collect())
        })
    }

    fn clean_temporary(&self) -> BlobFuture<'_, usize> {
        Box::pin(async { Ok(0) })
    }
}
