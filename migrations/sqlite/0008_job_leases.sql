-- Analysis jobs are leased, not owned: a worker (in `serve` or in its own `beian worker`
-- process) claims a job with a random claim id and a lease it renews while it works. A job
-- whose lease ran out (its worker was killed) is claimed again by any worker, and only the
-- holder of the current claim can close the job, so a verdict is written once.
ALTER TABLE analysis_jobs ADD COLUMN claim TEXT;
ALTER TABLE analysis_jobs ADD COLUMN lease_until TEXT;
DROP INDEX analysis_jobs_queue;
CREATE INDEX analysis_jobs_queue ON analysis_jobs (state, queued_at, lease_until);
