package org.ovis4j.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.ovis4j.checkpoint.NameMap;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.core.OvisException;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.lora.LoraFile.Adapter;

/**
 * The linear modules of an Ovis-Image transformer under both of its names — diffusers paths and the
 * official checkpoint's (BFL) paths — derived from the one checkpoint name map, and the exact
 * translation of LoRA adapters on official modules into adapters on diffusers modules.
 */
final class LoraModuleNames {
    /** Rows [from, from + count) of official module {@code source}'s output; count −1: all of them. */
    private record Rows(String source, long from, long count) {}

    private final Map<String, List<Rows>> diffusers = new TreeMap<>(); // linear diffusers module → its weight's row blocks
    private final Set<String> official = new HashSet<>();
    private final Map<String, String> flatDiffusers = new HashMap<>(), flatOfficial = new HashMap<>();

    private LoraModuleNames(NameMap map) {
        Map<String, List<NameMap.Part>> entries = map.entries();
        for (var e : entries.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(".weight")) continue;
            String module = name.substring(0, name.length() - ".weight".length());
            if (!entries.containsKey(module + ".bias")) continue; // norms: no bias, and no LoRA
            List<Rows> rows = new ArrayList<>();
            for (NameMap.Part p : e.getValue()) {
                String src = p.source().substring(0, p.source().length() - ".weight".length());
                rows.add(new Rows(src, p.from(), p.count()));
                official.add(src);
            }
            diffusers.put(module, rows);
        }
        for (String m : diffusers.keySet()) addFlat(flatDiffusers, m);
        for (String m : official) addFlat(flatOfficial, m);
    }

    private static void addFlat(Map<String, String> flat, String module) {
        String old = flat.put(module.replace('.', '_'), module);
        if (old != null) throw new IllegalStateException("modules " + old + " and " + module + " flatten alike");
    }

    static LoraModuleNames of(TransformerConfig config) {
        return new LoraModuleNames(OriginalTransformerNames.map(config));
    }

    boolean isDiffusersModule(String module) { return diffusers.containsKey(module); }

    boolean isOfficialModule(String module) { return official.contains(module); }

    /**
     * The module a kohya name spells with underscores for dots ({@code double_blocks_0_img_attn_qkv}):
     * kohya's {@code lora_unet_} names are official modules for FLUX-family models, so those are tried
     * first when {@code officialFirst}; {@code lora_transformer_} names are diffusers modules.
     */
    LoraFile.Source unflatten(String flat, boolean officialFirst) {
        String o = flatOfficial.get(flat), d = flatDiffusers.get(flat);
        if (officialFirst && o != null) return new LoraFile.Source(o, true);
        if (d != null) return new LoraFile.Source(d, false);
        return officialFirst ? null : o == null ? null : new LoraFile.Source(o, true);
    }

    /**
     * Adapters on official modules as adapters on diffusers modules. For a diffusers weight made of row
     * blocks of official weights W_s (W_d = stack of W_s[rows]), the LoRA term of W_d is the stack of the
     * sources' terms: scale_s·B_s[rows]·A_s. With one source that is (A_s, B_s[rows]) at the same alpha
     * and rank; with several it is A = [A_1; A_2; …] and a block-diagonal B (rank Σ r_s), at the common
     * scale, or with each scale_s folded into its block of B and alpha = rank when the scales differ.
     */
    List<Adapter> mapOfficial(Path file, List<LoraFile.Raw> raws, LoraFile.PeftConfig peft) {
        Map<String, Adapter> bySource = new LinkedHashMap<>();
        for (LoraFile.Raw raw : raws) bySource.put(raw.source.module(), raw.toAdapter(file, peft));
        for (Adapter s : bySource.values()) checkRows(file, s);
        List<Adapter> out = new ArrayList<>();
        for (var e : diffusers.entrySet()) {
            List<Rows> parts = e.getValue();
            List<Adapter> sources = new ArrayList<>();
            for (Rows r : parts) {
                Adapter s = bySource.get(r.source);
                if (s != null && !sources.contains(s)) sources.add(s);
            }
            if (!sources.isEmpty()) out.add(merge(file, e.getKey(), parts, sources));
        }
        return out;
    }

    /** A fused official adapter's B must have exactly the rows the name map splits. */
    private void checkRows(Path file, Adapter s) {
        long rows = -1;
        for (List<Rows> parts : diffusers.values())
            for (Rows r : parts)
                if (r.source.equals(s.module()) && r.count >= 0) rows = Math.max(rows, r.from + r.count);
        if (rows >= 0 && s.out() != rows)
            throw new OvisException(file + ": LoRA for " + s.module() + " has " + s.out() + " output rows, the model's tensor has " + rows);
    }

    private static Adapter merge(Path file, String module, List<Rows> parts, List<Adapter> sources) {
        int in = sources.get(0).in(), rank = 0;
        boolean sameScale = true;
        for (Adapter s : sources) {
            if (s.in() != in)
                throw new OvisException(file + ": LoRA for " + module + " combines " + sources.get(0).module() + " (in " + in + ") and "
                        + s.module() + " (in " + s.in() + ")");
            rank += s.rank();
            sameScale &= s.scale() == sources.get(0).scale();
        }
        int out = 0;
        for (Rows r : parts) out += r.count >= 0 ? (int) r.count : outOf(parts, sources, r, file, module);
        float[] a = new float[rank * in], b = new float[out * rank];
        int[] column = new int[sources.size()];
        for (int k = 0, c = 0; k < sources.size(); c += sources.get(k).rank(), k++) {
            column[k] = c;
            System.arraycopy(sources.get(k).a(), 0, a, c * in, sources.get(k).a().length);
        }
        int row = 0;
        for (Rows r : parts) {
            int k = indexOf(sources, r.source);
            int count = r.count >= 0 ? (int) r.count : outOf(parts, sources, r, file, module);
            if (k >= 0) {
                Adapter s = sources.get(k);
                float fold = sameScale ? 1f : s.scale();
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < s.rank(); j++)
                        b[(row + i) * rank + column[k] + j] = s.b()[(int) (r.from + i) * s.rank() + j] * fold;
            } // rows of a source without an adapter stay zero
            row += count;
        }
        Adapter first = sources.get(0);
        float alpha = sameScale ? (sources.size() == 1 ? first.alpha() : first.scale() * rank) : rank;
        return Adapter.of(module, a, b, in, out, rank, alpha);
    }

    /** Rows of a whole-tensor part: its source adapter's output count (a part without adapter needs a sibling's). */
    private static int outOf(List<Rows> parts, List<Adapter> sources, Rows r, Path file, String module) {
        int k = indexOf(sources, r.source);
        if (k >= 0) return sources.get(k).out();
        // a whole official tensor without an adapter next to one with: the same shape is the only case in the map
        // (SwiGLU's up_proj and gate_proj), so the sibling's row count is this part's too
        for (Rows other : parts) if (other.count < 0 && indexOf(sources, other.source) >= 0) return sources.get(indexOf(sources, other.source)).out();
        throw new OvisException(file + ": cannot size the part " + r.source + " of " + module);
    }

    private static int indexOf(List<Adapter> sources, String module) {
        for (int k = 0; k < sources.size(); k++) if (sources.get(k).module().equals(module)) return k;
        return -1;
    }
}
