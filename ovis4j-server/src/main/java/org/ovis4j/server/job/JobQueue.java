package org.ovis4j.server.job;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.SequencedSet;

/**
 * The jobs waiting for a worker, first in first out, with a capacity. A submission first reserves
 * a place ({@link #reserve}), then writes the job's file, then {@link #add}s it: the capacity
 * holds while the write runs outside the lock, and a full queue is refused before anything is
 * written. Jobs resumed after a restart are added without a reservation: they were accepted
 * before, and the capacity must not make the server drop them.
 */
final class JobQueue {
    private final int capacity;
    private final SequencedSet<Job> waiting = new LinkedHashSet<>();
    private int reserved;
    private boolean closed;

    JobQueue(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Takes a place for a job about to be added: -1 when one was taken, else the number of jobs
     * found waiting or about to be (the capacity: the queue is full).
     */
    synchronized int reserve() {
        int taken = waiting.size() + reserved;
        if (taken >= capacity) return taken;
        reserved++;
        return -1;
    }

    synchronized void release() {
        reserved--;
    }

    /** Adds a job for which a place was reserved. */
    synchronized void add(Job job) {
        reserved--;
        waiting.add(job);
        notifyAll();
    }

    /** Adds a job accepted before a restart. */
    synchronized void addRecovered(Job job) {
        waiting.add(job);
        notifyAll();
    }

    /** The next job, waiting for one; null once the queue is closed (the jobs still waiting stay on disk). */
    synchronized Job take() throws InterruptedException {
        while (waiting.isEmpty() && !closed) wait();
        if (closed) return null;
        return waiting.removeFirst();
    }

    /** Removes a waiting job (cancel); false when a worker has already taken it. */
    synchronized boolean remove(Job job) {
        return waiting.remove(job);
    }

    /** 1 for the next job to run, 0 when the job is not waiting. */
    synchronized int position(Job job) {
        int p = 1;
        for (Iterator<Job> it = waiting.iterator(); it.hasNext(); p++) if (it.next() == job) return p;
        return 0;
    }

    synchronized int size() { return waiting.size(); }

    int capacity() { return capacity; }

    /** No more jobs are handed out. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }
}
