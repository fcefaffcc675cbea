package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.train.optim.AdamW;

/**
 * A text-encoder pretraining run as {@code ovis4j train text-encoder --config FILE.json} describes it: a
 * Qwen3 trained from scratch as a causal language model on captions, tokenised with the Ovis template.
 * Read strictly as {@link TrainConfig} is (unknown keys are errors; relative paths against the file's folder).
 *
 * <pre>
 * text_encoder          required  the Qwen3 config.json (object or file name); written as the output's
 *                                 text_encoder/config.json. vocab_size must cover the tokenizer (151,669 ids
 *                                 for Qwen3's); tie_word_embeddings must be true (the LM head is the embedding)
 * init                  optional  .std 0.02 (transformers' initializer_range), .seed (default = seed)
 * tokenizer             required  folder with tokenizer.json (the Qwen3 tokenizer the pipeline will use)
 * data                  required  .shards (data engine tar shards: their captions) or .captions (a UTF-8 text
 *                                 file, one caption per line); .max_sequence_length 256 (as generate's)
 * softmax               "full"    full (over every id of the vocabulary) or corpus (over the ids that occur in
 *                                 the tokenised corpus only; see CausalLmLoss)
 * batch_size            16        sequences per step
 * steps                 required
 * optimizer, schedule, max_grad_norm (1.0), seed (0), checkpoint_every (500), keep_last (0), output: as in
 *                                 the transformer's config
 * </pre>
 *
 * The loss covers the next-token targets from row 28 on (the rows the pipeline keeps: the template's
 * ":" predicting the caption's first token, the caption, the template's end); the 28 rows before are
 * the same for every caption and serve as context only.
 */
public record TextEncoderConfig(Path file, Map<String, Object> textEncoderJson, Qwen3Config textEncoder, double initStd,
                                long initSeed, Path tokenizer, Path shards, Path captions, int maxSequenceLength, boolean corpusSoftmax,
                                int batchSize, long steps, AdamW.Hyperparameters optimizer, TrainConfig.Schedule schedule,
                                double maxGradNorm, long seed, long checkpointEvery, int keepLast, Path output) {

    public static TextEncoderConfig read(Path file) {
        Config raw = Config.read(file);
        return parse(new ConfigObject(file, "", raw.map()));
    }

    @SuppressWarnings("unchecked")
    static TextEncoderConfig parse(ConfigObject c) {
        long seed = c.integer("seed", 0);
        Object te = c.raw("text_encoder");
        Map<String, Object> json;
        String where;
        if (te instanceof String s) {
            Path p = c.resolve(s);
            json = Config.read(p).map();
            where = p.toString();
        } else if (te instanceof Map<?, ?> m) {
            json = (Map<String, Object>) m;
            where = c.file() + ": text_encoder";
        } else if (te == null) {
            throw new OvisException(c.file() + ": missing key \"text_encoder\"");
        } else {
            throw c.error("text_encoder", "must be a Qwen3 config object or the name of its config.json");
        }
        Qwen3Config qwen = Qwen3Config.from(new Config(where, json));
        if (!Boolean.TRUE.equals(json.get("tie_word_embeddings")))
            throw c.error("text_encoder", "must have \"tie_word_embeddings\": true (the LM head trained is the embedding)");

        double std = 0.02;
        long initSeed = seed;
        ConfigObject init = c.object("init");
        if (init != null) {
            std = init.number("std", 0.02);
            if (!(std > 0)) throw init.error("std", "must be positive, got " + std);
            initSeed = init.integer("seed", seed);
            init.finish();
        }
        Path tokenizer = c.path("tokenizer", null);
        if (tokenizer == null) c.string("tokenizer");

        ConfigObject d = c.object("data");
        if (d == null) c.string("data");
        Path shards = d.path("shards", null), captions = d.path("captions", null);
        if ((shards == null) == (captions == null))
            throw new OvisException(c.file() + ": key \"data\" needs exactly one of \"shards\" and \"captions\"");
        int msl = d.integer("max_sequence_length", 256, 1, 256);
        d.finish();

        boolean corpus = c.choice("softmax", "full", "full", "corpus").equals("corpus");
        int batch = c.integer("batch_size", 16, 1, 1 << 16);
        long steps = RunSettings.steps(c);
        AdamW.Hyperparameters hp = RunSettings.optimizer(c);
        TrainConfig.Schedule schedule = RunSettings.schedule(c);
        double clip = RunSettings.maxGradNorm(c);
        long every = RunSettings.checkpointEvery(c);
        int keep = RunSettings.keepLast(c);
        Path output = RunSettings.output(c);
        c.finish();
        return new TextEncoderConfig(c.file(), json, qwen, std, initSeed, tokenizer, shards, captions, msl, corpus, batch, steps, hp,
                schedule, clip, seed, every, keep, output);
    }

    /** What is trained (see {@link TrainConfig#fingerprint}): everything but checkpoint_every, keep_last and output. */
    public Map<String, Object> fingerprint() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mode", "text-encoder");
        m.put("text_encoder", textEncoderJson);
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("std", initStd);
        i.put("seed", initSeed);
        m.put("init", i);
        m.put("tokenizer", tokenizer.toAbsolutePath().normalize().toString());
        Map<String, Object> d = new LinkedHashMap<>();
        if (shards != null) d.put("shards", shards.toAbsolutePath().normalize().toString());
        else d.put("captions", captions.toAbsolutePath().normalize().toString());
        d.put("max_sequence_length", (long) maxSequenceLength);
        m.put("data", d);
        m.put("softmax", corpusSoftmax ? "corpus" : "full");
        m.put("batch_size", (long) batchSize);
        m.put("steps", steps);
        m.put("optimizer", RunSettings.optimizerJson(optimizer));
        m.put("schedule", RunSettings.scheduleJson(schedule));
        m.put("max_grad_norm", maxGradNorm);
        m.put("seed", seed);
        return m;
    }

    public String fingerprintHash() {
        return TrainConfig.sha256(org.ovis4j.core.json.Json.write(fingerprint(), 0));
    }
}
