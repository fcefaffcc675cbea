package org.ovis4j.server.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.server.metrics.Metrics;

/** What a start finds in the data folder after a crash, without a model: the jobs' files and what becomes of them. */
class JobRecoveryTest {
    static final JobRequest REQUEST = new JobRequest("a sign", "", 64, 64, 2, 4.5f, 123456789012L, 2);

    @Test
    void aJobFileReadsBackAsWritten(@TempDir Path data) {
        try (JobStore store = JobStore.open(data)) {
            Job j = new Job("job_0123456789abcdef01234567", 7, 1_700_000_000_123L, REQUEST);
            j.toRunning(1_700_000_001_000L);
            j.toFinal(JobState.FAILED, 1_700_000_002_000L, new JobError("generation_failed", "no"), List.of("x-0"));
            store.save(j);
            Job back = store.loadAll().getFirst();
            assertEquals(j.toJson(), back.toJson());
            assertEquals(REQUEST, back.request());
        }
    }

    @Test
    void queuedResumeInOrderRunningRerunsOnceThenFails(@TempDir Path data) {
        try (JobStore store = JobStore.open(data)) {
            Job once = job("job_000000000000000000000001", 1, JobState.RUNNING, 1);
            Job twice = job("job_000000000000000000000002", 2, JobState.RUNNING, 2);
            Job queuedLate = job("job_000000000000000000000004", 4, JobState.QUEUED, 0);
            Job queuedEarly = job("job_000000000000000000000003", 3, JobState.QUEUED, 0);
            Job done = job("job_000000000000000000000005", 5, JobState.COMPLETED, 1);
            for (Job j : List.of(once, twice, queuedLate, queuedEarly, done)) store.save(j);
        }
        try (JobStore store = JobStore.open(data)) {
            JobService service = new JobService(store, 1, new Metrics());
            assertEquals("jobs on disk: 2 queued resumed, 1 interrupted re-run, 1 interrupted failed, 1 finished", service.recover());
            Job once = service.get("job_000000000000000000000001");
            assertEquals(JobState.QUEUED, once.state());
            assertEquals(1, service.position(once));
            assertEquals(2, service.position(service.get("job_000000000000000000000003")));
            assertEquals(3, service.position(service.get("job_000000000000000000000004")));
            Job twice = service.get("job_000000000000000000000002");
            assertEquals(JobState.FAILED, twice.state());
            assertEquals(JobError.INTERRUPTED, twice.snapshot().error().code());
            // Resumed jobs are kept even beyond the capacity (1): they were accepted before; new ones are refused.
            var full = assertThrows(org.ovis4j.server.http.ApiException.class, () -> service.submit(REQUEST));
            assertEquals(429, full.status());
        }
        // What recovery decided is on disk before anything runs.
        try (JobStore store = JobStore.open(data)) {
            var states = store.loadAll().stream().map(j -> j.id().substring(27) + "=" + j.state().wire()).toList();
            assertEquals(List.of("1=queued", "2=failed", "3=queued", "4=queued", "5=completed"), states);
        }
    }

    @Test
    void leftoverTemporaryFilesAreRemovedAndAnUnreadableRecordIsNamed(@TempDir Path data) throws Exception {
        try (JobStore store = JobStore.open(data)) {
            store.save(job("job_000000000000000000000001", 1, JobState.QUEUED, 0));
        }
        Path leftover = data.resolve("jobs/.job_000000000000000000000001.json.1234.tmp");
        Files.writeString(leftover, "{\"id\": \"job_0000");
        try (JobStore store = JobStore.open(data)) {
            assertFalse(Files.exists(leftover));
            assertEquals(1, store.loadAll().size());
        }
        Files.writeString(data.resolve("jobs/job_000000000000000000000009.json"), "{\"id\": ");
        try (JobStore store = JobStore.open(data)) {
            var e = assertThrows(OvisException.class, store::loadAll);
            assertTrue(e.getMessage().contains("job_000000000000000000000009.json: unreadable job record"), e.getMessage());
        }
    }

    @Test
    void aSecondServerCannotUseTheSameDataFolder(@TempDir Path data) {
        try (JobStore first = JobStore.open(data)) {
            var e = assertThrows(OvisException.class, () -> JobStore.open(data));
            assertTrue(e.getMessage().endsWith("another server is using this data folder"), e.getMessage());
        }
        JobStore.open(data).close(); // free again once the first closed
    }

    static Job job(String id, long sequence, JobState state, int attempts) {
        Job j = new Job(id, sequence, 1_700_000_000_000L + sequence, REQUEST);
        for (int k = 0; k < attempts; k++) j.toRunning(1_700_000_000_500L);
        if (state == JobState.QUEUED && attempts > 0) j.toQueued();
        if (state.isFinal()) j.toFinal(state, 1_700_000_001_000L, null, List.of());
        return j;
    }
}
