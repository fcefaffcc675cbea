package org.ovis4j.train.lora;

import java.util.ArrayList;
import java.util.List;
import org.ovis4j.train.dit.Projection;
import org.ovis4j.train.param.Parameter;

/** A linear module with a LoRA adapter: y = base(x) + scale·B(A x). The base is used as it is (frozen or not). */
public final class LoraProjection implements Projection {
    private final Projection base;
    private final LoraAdapter adapter;

    public LoraProjection(Projection base, LoraAdapter adapter) {
        if (adapter.in() != base.in() || adapter.out() != base.out())
            throw new org.ovis4j.core.OvisException("LoRA for " + base.module() + ": adapter maps " + adapter.in() + " to "
                    + adapter.out() + ", the layer " + base.in() + " to " + base.out());
        this.base = base;
        this.adapter = adapter;
    }

    public LoraAdapter adapter() { return adapter; }
    @Override public String module() { return base.module(); }
    @Override public int in() { return base.in(); }
    @Override public int out() { return base.out(); }

    /** The base layer alone: the adapter's term is not added. */
    @Override
    public Projection unadapted() {
        return base.unadapted();
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(base.parameters());
        all.addAll(adapter.parameters());
        return all;
    }

    @Override
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        base.forward(x, xOff, ldx, rows, y, yOff, ldy);
        adapter.addForward(x, xOff, ldx, rows, y, yOff, ldy);
    }

    @Override
    public void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                         float[] dx, int dxOff, int lddx, boolean accumulate) {
        base.backward(x, xOff, ldx, rows, dy, dyOff, lddy, dx, dxOff, lddx, accumulate);
        adapter.backward(x, xOff, ldx, rows, dy, dyOff, lddy, dx, dxOff, lddx);
    }
}
