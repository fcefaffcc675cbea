package org.ovis4j.train.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory as Linux reports it in {@code /proc/self/status}: the peak (VmHWM,
 * the high-water mark of the resident set: heap, native buffers and the touched pages of memory-mapped
 * weights) and the current value (VmRSS). -1 where the file or the field does not exist (not Linux). Also
 * the process's CPU time, which the benchmark reports beside wall time.
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {}

    /** Peak resident set size in bytes, or -1. */
    public static long peakResidentBytes() {
        return field("VmHWM:");
    }

    /** Current resident set size in bytes, or -1. */
    public static long residentBytes() {
        return field("VmRSS:");
    }

    private static long field(String key) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (!line.startsWith(key)) continue;
                String[] parts = line.substring(key.length()).trim().split("\\s+");
                long kb = Long.parseLong(parts[0]);
                return kb * 1024; // the kernel writes kB (KiB)
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** CPU time this process has used, every thread (native oneDNN/OpenMP ones too), in nanoseconds; -1 where unknown. */
    public static long cpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }
}
