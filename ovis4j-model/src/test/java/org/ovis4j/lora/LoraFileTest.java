package org.ovis4j.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.lora.LoraFile.Adapter;
import org.ovis4j.testing.Goldens;

/** The diffusers LoRA file format against training/lora_weights.safetensors (goldens README 9.4). */
class LoraFileTest {
    @TempDir
    Path dir;

    private static final Path GOLDEN = Goldens.tiny().resolve("training/lora_weights.safetensors");
    private static final TransformerConfig TINY = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));

    @Test
    void readsTheGoldenAdapters() {
        List<Adapter> adapters = LoraFile.read(GOLDEN);
        assertEquals(26, adapters.size());
        Map<String, Tensor> lora = Goldens.read("training/lora.safetensors");
        @SuppressWarnings("unchecked")
        List<Object> targets = (List<Object>) ((Map<String, Object>) Json.parse(
                SafetensorsFile.read(Goldens.tiny().resolve("training/lora.safetensors"), Arena.ofAuto()).metadata().get("hyperparameters")))
                .get("lora_targets");
        assertEquals(new TreeSet<>(targets), new TreeSet<>(adapters.stream().map(Adapter::module).toList()));
        for (Adapter ad : adapters) {
            assertEquals(4, ad.rank(), ad.module());
            assertEquals(8f, ad.alpha(), ad.module());
            assertEquals(2f, ad.scale(), ad.module());
            long in = ad.module().endsWith(".proj_out") ? 160 : 32; // single blocks: proj_out reads [attn; mlp] = 32 + 128
            long out = ad.module().endsWith("proj_mlp") ? 256 : 32;
            assertArrayEquals(new long[] {4, in}, ad.aShape(), ad.module());
            assertArrayEquals(new long[] {out, 4}, ad.bShape(), ad.module());
            assertArrayEquals(Goldens.floats(lora, "transformer." + ad.module() + ".lora_A.weight"), ad.a(), ad.module());
            assertArrayEquals(Goldens.floats(lora, "transformer." + ad.module() + ".lora_B.weight"), ad.b(), ad.module());
        }
        assertSame(adapters, LoraFile.read(GOLDEN, TINY));
    }

    /** Written back, the file has the golden's tensors byte for byte and its metadata in content. */
    @Test
    void writeReproducesTheGoldenFile() {
        List<Adapter> adapters = LoraFile.read(GOLDEN);
        Path out = dir.resolve("lora.safetensors");
        LoraFile.write(out, adapters);
        assertSame(adapters, LoraFile.read(out));
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile want = SafetensorsFile.read(GOLDEN, arena), got = SafetensorsFile.read(out, arena);
            assertEquals(List.copyOf(want.tensors().keySet()), List.copyOf(got.tensors().keySet()), "names in the same order");
            for (var e : want.tensors().entrySet()) {
                Tensor w = e.getValue(), g = got.tensors().get(e.getKey());
                assertEquals(w.dtype(), g.dtype());
                assertArrayEquals(w.shape(), g.shape());
                assertArrayEquals(w.data().toArray(ValueLayout.JAVA_BYTE), g.data().toArray(ValueLayout.JAVA_BYTE), e.getKey());
            }
            assertEquals("pt", got.metadata().get("format"));
            assertEquals(Json.parse(want.metadata().get("lora_adapter_metadata")), Json.parse(got.metadata().get("lora_adapter_metadata")));
            assertEquals(want.metadata().keySet(), got.metadata().keySet());
        }
    }

    /** Modules of different rank and alpha: r / lora_alpha hold the common values, the patterns the others. */
    @Test
    void heterogeneousRanksAndAlphasRoundTrip() {
        Random r = new Random(1);
        List<Adapter> adapters = List.of(
                random(r, "transformer_blocks.0.attn.to_q", 32, 32, 4, 8f),
                random(r, "transformer_blocks.0.attn.to_k", 32, 32, 4, 8f),
                random(r, "transformer_blocks.1.attn.to_q", 32, 32, 8, 8f),
                random(r, "single_transformer_blocks.1.proj_out", 160, 32, 4, 2.5f));
        Path out = dir.resolve("mixed.safetensors");
        LoraFile.write(out, adapters);
        List<Adapter> back = LoraFile.read(out);
        assertEquals(4, back.size());
        for (Adapter want : adapters) {
            Adapter got = back.stream().filter(a -> a.module().equals(want.module())).findFirst().orElseThrow();
            assertEquals(want.rank(), got.rank());
            assertEquals(want.alpha(), got.alpha());
            assertArrayEquals(want.a(), got.a());
            assertArrayEquals(want.b(), got.b());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) Json.parse(SafetensorsFile.read(out, Arena.ofAuto()).metadata().get("lora_adapter_metadata"));
        assertEquals(4L, meta.get("transformer.r"));
        assertEquals(8.0, meta.get("transformer.lora_alpha"));
        assertEquals(Map.of("transformer_blocks.1.attn.to_q", 8L), meta.get("transformer.rank_pattern"));
        assertEquals(Map.of("single_transformer_blocks.1.proj_out", 2.5), meta.get("transformer.alpha_pattern"));
    }

    private static Adapter random(Random r, String module, int in, int out, int rank, float alpha) {
        float[] a = new float[rank * in], b = new float[out * rank];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        return Adapter.of(module, a, b, in, out, rank, alpha);
    }

    /** Without metadata diffusers assumes alpha = r; a kohya-style .alpha tensor overrides it. */
    @Test
    void alphaWithoutMetadataAndFromAlphaTensors() {
        Path f = dir.resolve("plain.safetensors");
        new SafetensorsWriter()
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {2, 3}, new float[6])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {5, 2}, new float[10])
                .addFloats("transformer.transformer_blocks.0.attn.to_k.lora_A.weight", DType.BF16, new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .addFloats("transformer.transformer_blocks.0.attn.to_k.lora_B.weight", DType.BF16, new long[] {5, 2}, new float[10])
                .addFloats("transformer.transformer_blocks.0.attn.to_k.alpha", DType.F32, new long[] {}, new float[] {1.5f})
                .write(f);
        List<Adapter> ads = LoraFile.read(f);
        assertEquals("transformer_blocks.0.attn.to_k", ads.get(0).module());
        assertEquals(1.5f, ads.get(0).alpha());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, ads.get(0).a());
        assertEquals(2f, ads.get(1).alpha());
        assertEquals(1f, ads.get(1).scale());
    }

    @Test
    void errorsNameTheProblem() {
        Path missingB = file("missing_b", w -> w.addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32},
                new float[128]));
        assertMessage(() -> LoraFile.read(missingB), "transformer.transformer_blocks.0.attn.to_q has lora_A (lora_down) but no lora_B");

        Path badRank = file("bad_rank", w -> w
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {32, 8}, new float[256]));
        assertMessage(() -> LoraFile.read(badRank), "lora_A is [4, 32] (rank 4) but lora_B is [32, 8] (expected [out, 4])");

        Path conv = file("conv", w -> w
                .addFloats("transformer.x.lora_A.weight", DType.F32, new long[] {4, 32, 1, 1}, new float[128])
                .addFloats("transformer.x.lora_B.weight", DType.F32, new long[] {32, 4, 1, 1}, new float[128]));
        assertMessage(() -> LoraFile.read(conv), "are not matrices");

        Path dora = file("dora", w -> w.addFloats("transformer.transformer_blocks.0.attn.to_q.lora_magnitude_vector", DType.F32, new long[] {32},
                new float[32]));
        assertMessage(() -> LoraFile.read(dora), "is not a LoRA A, B or alpha");

        Path te = file("te", w -> w.addFloats("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", DType.F32, new long[] {4, 8},
                new float[32]));
        assertMessage(() -> LoraFile.read(te), "adapts the text encoder");

        Path kohya = file("kohya", w -> w.addFloats("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", DType.F32, new long[] {4, 32},
                new float[128]));
        assertMessage(() -> LoraFile.read(kohya), "needs the model's configuration");

        Path unknown = file("unknown", w -> w
                .addFloats("lora_unet_double_blocks_7_img_attn_qkv.lora_down.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("lora_unet_double_blocks_7_img_attn_qkv.lora_up.weight", DType.F32, new long[] {96, 4}, new float[384]));
        assertMessage(() -> LoraFile.read(unknown, TINY), "names no linear module");

        Path shortQkv = file("short_qkv", w -> w
                .addFloats("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight", DType.F32, new long[] {32, 4}, new float[128]));
        assertMessage(() -> LoraFile.read(shortQkv, TINY), "has 32 output rows, the model's tensor has 96");

        Path notLinear = file("norm", w -> w
                .addFloats("transformer.transformer_blocks.0.attn.norm_q.lora_A.weight", DType.F32, new long[] {4, 16}, new float[64])
                .addFloats("transformer.transformer_blocks.0.attn.norm_q.lora_B.weight", DType.F32, new long[] {16, 4}, new float[64]));
        assertMessage(() -> LoraFile.read(notLinear, TINY), "has no linear module transformer_blocks.0.attn.norm_q");

        Path dupe = file("dupe", w -> w
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {32, 4}, new float[128])
                .addFloats("lora_transformer_transformer_blocks_0_attn_to_q.lora_down.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("lora_transformer_transformer_blocks_0_attn_to_q.lora_up.weight", DType.F32, new long[] {32, 4}, new float[128]));
        assertMessage(() -> LoraFile.read(dupe, TINY), "adapt the same module");

        Path wrongMeta = file("wrong_meta", w -> w
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {32, 4}, new float[128])
                .metadata("lora_adapter_metadata", "{\"transformer.r\": 16, \"transformer.lora_alpha\": 16}"));
        assertMessage(() -> LoraFile.read(wrongMeta), "metadata gives rank 16 but lora_A has 4 rows");

        Path doraMeta = file("dora_meta", w -> w
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {32, 4}, new float[128])
                .metadata("lora_adapter_metadata", "{\"transformer.use_dora\": true}"));
        assertMessage(() -> LoraFile.read(doraMeta), "use_dora=true, which is not supported");

        assertMessage(() -> LoraFile.read(dir.resolve("absent.safetensors")), "file not found");
        assertThrows(OvisException.class, () -> Adapter.of("m", new float[8], new float[8], 2, 4, 4, 1f), "A [4, 2] needs 8 values, B [4, 4] 16");
    }

    private Path file(String name, java.util.function.Consumer<SafetensorsWriter> fill) {
        SafetensorsWriter w = new SafetensorsWriter();
        fill.accept(w);
        Path p = dir.resolve(name + ".safetensors");
        w.write(p);
        return p;
    }

    static void assertMessage(Runnable r, String fragment) {
        OvisException e = assertThrows(OvisException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" should contain \"" + fragment + "\"");
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    static void assertSame(List<Adapter> want, List<Adapter> got) {
        assertEquals(want.size(), got.size());
        for (int k = 0; k < want.size(); k++) {
            Adapter w = want.get(k), g = got.get(k);
            assertEquals(w.module(), g.module());
            assertEquals(w.rank(), g.rank(), w.module());
            assertEquals(Float.floatToRawIntBits(w.alpha()), Float.floatToRawIntBits(g.alpha()), w.module());
            assertArrayEquals(w.aShape(), g.aShape(), w.module());
            assertArrayEquals(w.bShape(), g.bShape(), w.module());
            assertArrayEquals(w.a(), g.a(), w.module());
            assertArrayEquals(w.b(), g.b(), w.module());
        }
    }

    // ---------------------------------------------------------------- other trainers' files

    /**
     * A kohya file on official modules: fused qkv, single-block linear1 (q, k, v and the MLP input),
     * SwiGLU's separate up and gate projections (one with its own alpha), the final modulation (whose
     * halves diffusers swaps), a plain rename. For every diffusers weight the mapped adapters' ΔW =
     * scale·B·A must equal the stack of the official ΔW row blocks it is made of, computed in double.
     * Folding a scale into B rounds once: 2^-24 relative per element of B, so ΔW agrees to 1e-6 relative.
     */
    @Test
    void officialModulesMapExactlyOntoDiffusersModules() {
        int d = TINY.innerDim(), f = TINY.mlpHidden();
        Random r = new Random(7);
        record Official(String module, int in, int out, int rank, float alpha) {}
        List<Official> official = List.of(
                new Official("double_blocks.0.img_attn.qkv", d, 3 * d, 4, 8f),
                new Official("double_blocks.1.txt_attn.proj", d, d, 2, 2f),
                new Official("single_blocks.1.linear1", d, 3 * d + 2 * f, 4, 4f),
                new Official("double_blocks.0.img_mlp.up_proj", d, f, 4, 8f),
                new Official("double_blocks.0.img_mlp.gate_proj", d, f, 2, 1f),
                new Official("double_blocks.1.txt_mlp.up_proj", d, f, 4, 4f), // its gate_proj has no adapter
                new Official("final_layer.adaLN_modulation.1", d, 2 * d, 3, 6f));
        Map<String, float[][]> abs = new java.util.HashMap<>();
        SafetensorsWriter kohya = new SafetensorsWriter(), sdcpp = new SafetensorsWriter();
        for (Official o : official) {
            float[] a = new float[o.rank * o.in], b = new float[o.out * o.rank];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
            abs.put(o.module, new float[][] {a, b});
            String k = "lora_unet_" + o.module.replace('.', '_');
            kohya.addFloats(k + ".lora_down.weight", DType.F32, new long[] {o.rank, o.in}, a)
                    .addFloats(k + ".lora_up.weight", DType.F32, new long[] {o.out, o.rank}, b)
                    .addFloats(k + ".alpha", DType.F32, new long[] {}, new float[] {o.alpha});
            sdcpp.addFloats("diffusion_model." + o.module + ".lora_A.weight", DType.F32, new long[] {o.rank, o.in}, a)
                    .addFloats("diffusion_model." + o.module + ".lora_B.weight", DType.F32, new long[] {o.out, o.rank}, b)
                    .addFloats("diffusion_model." + o.module + ".alpha", DType.F32, new long[] {}, new float[] {o.alpha});
        }
        Path kf = dir.resolve("kohya.safetensors"), sf = dir.resolve("sdcpp.safetensors");
        kohya.write(kf);
        sdcpp.write(sf);
        List<Adapter> mapped = LoraFile.read(kf, TINY);
        assertSame(mapped, LoraFile.read(sf, TINY));

        // what each diffusers module must receive: official (module, first row, rows), stacked in order
        record Block(String source, int from, int rows) {}
        Map<String, List<Block>> expected = new java.util.TreeMap<>();
        expected.put("transformer_blocks.0.attn.to_q", List.of(new Block("double_blocks.0.img_attn.qkv", 0, d)));
        expected.put("transformer_blocks.0.attn.to_k", List.of(new Block("double_blocks.0.img_attn.qkv", d, d)));
        expected.put("transformer_blocks.0.attn.to_v", List.of(new Block("double_blocks.0.img_attn.qkv", 2 * d, d)));
        expected.put("transformer_blocks.1.attn.to_add_out", List.of(new Block("double_blocks.1.txt_attn.proj", 0, d)));
        expected.put("single_transformer_blocks.1.attn.to_q", List.of(new Block("single_blocks.1.linear1", 0, d)));
        expected.put("single_transformer_blocks.1.attn.to_k", List.of(new Block("single_blocks.1.linear1", d, d)));
        expected.put("single_transformer_blocks.1.attn.to_v", List.of(new Block("single_blocks.1.linear1", 2 * d, d)));
        expected.put("single_transformer_blocks.1.proj_mlp", List.of(new Block("single_blocks.1.linear1", 3 * d, 2 * f)));
        expected.put("transformer_blocks.0.ff.net.0.proj",
                List.of(new Block("double_blocks.0.img_mlp.up_proj", 0, f), new Block("double_blocks.0.img_mlp.gate_proj", 0, f)));
        expected.put("transformer_blocks.1.ff_context.net.0.proj",
                List.of(new Block("double_blocks.1.txt_mlp.up_proj", 0, f), new Block(null, 0, f)));
        expected.put("norm_out.linear",
                List.of(new Block("final_layer.adaLN_modulation.1", d, d), new Block("final_layer.adaLN_modulation.1", 0, d)));
        assertEquals(expected.keySet(), new TreeSet<>(mapped.stream().map(Adapter::module).toList()));

        for (Adapter ad : mapped) {
            List<double[]> rows = new ArrayList<>();
            for (Block blk : expected.get(ad.module())) {
                Official o = blk.source == null ? null : official.stream().filter(x -> x.module.equals(blk.source)).findFirst().orElseThrow();
                for (int i = 0; i < blk.rows; i++) {
                    double[] row = new double[d];
                    if (o != null) {
                        float[] a = abs.get(o.module)[0], b = abs.get(o.module)[1];
                        for (int j = 0; j < d; j++) {
                            double s = 0;
                            for (int q = 0; q < o.rank; q++) s += (double) b[(blk.from + i) * o.rank + q] * a[q * d + j];
                            row[j] = (double) o.alpha / o.rank * s;
                        }
                    }
                    rows.add(row);
                }
            }
            assertEquals(rows.size(), ad.out(), ad.module());
            assertEquals(d, ad.in(), ad.module());
            double scale = (double) ad.alpha() / ad.rank();
            for (int i = 0; i < rows.size(); i++)
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int q = 0; q < ad.rank(); q++) s += (double) ad.b()[i * ad.rank() + q] * ad.a()[q * d + j];
                    double want = rows.get(i)[j], got = scale * s;
                    assertEquals(want, got, 1e-6 * Math.max(1, Math.abs(want)), ad.module() + " ΔW[" + i + ", " + j + "]");
                }
        }
        Adapter qkvQ = mapped.stream().filter(a -> a.module().equals("transformer_blocks.0.attn.to_q")).findFirst().orElseThrow();
        assertEquals(4, qkvQ.rank());
        assertEquals(8f, qkvQ.alpha(), "a row block keeps its source's rank and alpha");
        Adapter up = mapped.stream().filter(a -> a.module().equals("transformer_blocks.0.ff.net.0.proj")).findFirst().orElseThrow();
        assertEquals(6, up.rank(), "up (rank 4) and gate (rank 2) stack their ranks");
    }
}
