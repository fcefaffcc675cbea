package org.ovis4j.server.job;

/** Where a job is in its life; the last three are final and never change again. */
public enum JobState {
    QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED;

    public boolean isFinal() { return this == COMPLETED || this == FAILED || this == CANCELLED; }

    /** The name in the API and in the job files. */
    public String wire() { return name().toLowerCase(); }

    public static JobState ofWire(String s) { return valueOf(s.toUpperCase()); }
}
