package org.ovis4j.train.optim;

import org.ovis4j.core.OvisException;

/**
 * Learning-rate schedules as diffusers' {@code get_scheduler} builds them (diffusers
 * {@code optimization.py}; transformers' {@code get_cosine_schedule_with_warmup} is the same formula):
 * a multiplier λ(k) of the base rate, where k counts the scheduler steps taken so far. torch's LambdaLR
 * sets the rate to base·λ(0) when it is created and the training scripts call {@code lr_scheduler.step()}
 * after each {@code optimizer.step()}, so optimizer step n (1-based) runs at base·λ(n − 1): with warmup
 * the first step has rate 0. {@link #rate} takes the number of optimizer steps already completed.
 *
 * <p>Arithmetic in double as in Python; the cosine uses {@link StrictMath} so that a run gives the same
 * rates on every JVM.
 */
public sealed interface LearningRateSchedule {
    /** λ(k) for k ≥ 0 scheduler steps. */
    double factor(long k);

    /** The rate of the optimizer step that follows {@code completedSteps} completed ones. */
    default double rate(double baseLr, long completedSteps) {
        return baseLr * factor(completedSteps);
    }

    /** {@code "constant"}: λ = 1. */
    record Constant() implements LearningRateSchedule {
        @Override public double factor(long k) { return 1.0; }
    }

    /** {@code "constant_with_warmup"}: k / max(1, warmup) for k below warmup, then 1. */
    record ConstantWithWarmup(long warmupSteps) implements LearningRateSchedule {
        public ConstantWithWarmup {
            if (warmupSteps < 0) throw new OvisException("learning-rate warmup must not be negative, got " + warmupSteps);
        }

        @Override public double factor(long k) {
            return k < warmupSteps ? (double) k / Math.max(1.0, warmupSteps) : 1.0;
        }
    }

    /**
     * {@code "cosine"}: linear warmup, then max(0, ½·(1 + cos(π·cycles·2·progress))) with progress =
     * (k − warmup) / max(1, total − warmup). diffusers' {@code get_scheduler("cosine")} uses the default
     * {@code num_cycles} = 0.5 (one half-cosine from the base rate down to 0 at {@code total}).
     */
    record CosineWithWarmup(long warmupSteps, long totalSteps, double cycles) implements LearningRateSchedule {
        public CosineWithWarmup {
            if (warmupSteps < 0 || totalSteps < 0)
                throw new OvisException("cosine schedule: warmup and total steps must not be negative (" + warmupSteps + ", " + totalSteps + ")");
        }

        public CosineWithWarmup(long warmupSteps, long totalSteps) {
            this(warmupSteps, totalSteps, 0.5);
        }

        @Override public double factor(long k) {
            if (k < warmupSteps) return (double) k / Math.max(1, warmupSteps);
            double progress = (double) (k - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
            return Math.max(0.0, 0.5 * (1.0 + StrictMath.cos(Math.PI * cycles * 2.0 * progress)));
        }
    }

    /** A schedule by its diffusers name ({@code --lr_scheduler}); unused arguments are ignored as there. */
    static LearningRateSchedule named(String name, long warmupSteps, long totalSteps) {
        return switch (name) {
            case "constant" -> new Constant();
            case "constant_with_warmup" -> new ConstantWithWarmup(warmupSteps);
            case "cosine" -> new CosineWithWarmup(warmupSteps, totalSteps);
            default -> throw new OvisException("unknown learning-rate schedule \"" + name
                    + "\" (expected constant, constant_with_warmup or cosine)");
        };
    }
}
