#!/usr/bin/env python3
"""Reference fixtures written by the real Hugging Face stack (transformers, tokenizers, torch).

Run on a machine that has torch + transformers + tokenizers (no network needed):

    python3 tools/hf_fixtures.py OUTDIR

For each supported family it builds a tiny random model from a config (no download), trains a
byte-level BPE tokenizer on a small built-in corpus, saves both with save_pretrained, and records
transformers' own fp32 outputs for fixed token ids in OUTDIR/<name>/reference/outputs.safetensors:
  log_probs.<s>           [n_tokens, vocab]  log_softmax of the logits of sequence s
  router_logits.<s>.<L>   [n_tokens, E]      router logits of MoE layer L (output_router_logits)
and OUTDIR/<name>/reference/inputs.json with the token ids, the library versions and the settings.
The C++ tests compare moe-recal's reader, engine and tokenizer with these files.
"""
import json
import os
import sys

import torch
import transformers
import tokenizers
from safetensors.torch import save_file

CORPUS = [
    "Mixture-of-Experts models route every token to a few experts.",
    "The router is a linear layer followed by a softmax and a top-k selection.",
    "Recalibration turns each router row towards its expert's principal direction.",
    "def route(x, k):\n    return sorted(range(len(x)), key=lambda i: -x[i])[:k]\n",
    "Zahlen 0123456789, emoji \U0001F600, accents: déjà vu, naïve café.",
    "  leading spaces, tabs\tand\nnew lines   matter to byte-level BPE.",
] * 20

COMMON = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              vocab_size=384, max_position_embeddings=256, num_experts_per_tok=2,
              tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0)

FAMILIES = {
    "hf-mixtral": ("mixtral", dict(intermediate_size=32, num_local_experts=8, rope_theta=1e6,
                                   rms_norm_eps=1e-5), torch.bfloat16, "200KB"),
    "hf-olmoe": ("olmoe", dict(intermediate_size=32, num_experts=8, norm_topk_prob=False,
                               rms_norm_eps=1e-5), torch.float16, None),
    "hf-qwen2-moe": ("qwen2_moe", dict(intermediate_size=96, moe_intermediate_size=32,
                                       shared_expert_intermediate_size=48, num_experts=8,
                                       num_hidden_layers=3, mlp_only_layers=[1],
                                       norm_topk_prob=False, rms_norm_eps=1e-6),
                     torch.bfloat16, None),
    "hf-qwen3-moe": ("qwen3_moe", dict(intermediate_size=96, moe_intermediate_size=32,
                                       num_experts=8, head_dim=32, norm_topk_prob=True,
                                       rms_norm_eps=1e-6), torch.bfloat16, "200KB"),
}


def train_tokenizer(vocab_size):
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    special = ["<pad>", "<s>", "</s>"]
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=special,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = tokenizers.processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", 1)])
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    return fast


def build(name, model_type, extra, dtype, shard, out, tokenizer):
    torch.manual_seed(1234)
    cfg = transformers.AutoConfig.for_model(model_type, **{**COMMON, **extra})
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    with torch.no_grad():  # larger than the default init so routing is not uniform
        for n, p in model.named_parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.08)
    model = model.to(dtype)
    d = os.path.join(out, name)
    kwargs = {"safe_serialization": True}
    if shard:
        kwargs["max_shard_size"] = shard
    model.save_pretrained(d, **kwargs)
    tokenizer.save_pretrained(d)
    # Reference outputs: reload the saved checkpoint, compute in fp32.
    ref = transformers.AutoModelForCausalLM.from_pretrained(
        d, torch_dtype=torch.float32, attn_implementation="eager").eval()
    texts = [CORPUS[0] + " " + CORPUS[2], CORPUS[3] + CORPUS[4]]
    ids = [tokenizer(t)["input_ids"][:48] for t in texts]
    tensors = {}
    with torch.no_grad():
        for s, seq in enumerate(ids):
            o = ref(torch.tensor([seq]), output_router_logits=True)
            tensors[f"log_probs.{s}"] = torch.log_softmax(o.logits[0].float(), -1).contiguous()
            moe_layers = [i for i in range(cfg.num_hidden_layers)
                          if i not in getattr(cfg, "mlp_only_layers", [])]
            for L, rl in zip(moe_layers, o.router_logits):
                tensors[f"router_logits.{s}.{L}"] = rl.reshape(len(seq), -1).float().contiguous()
    os.makedirs(os.path.join(d, "reference"), exist_ok=True)
    save_file(tensors, os.path.join(d, "reference", "outputs.safetensors"))
    meta = {"texts": texts, "input_ids": ids, "transformers": transformers.__version__,
            "torch": torch.__version__, "tokenizers": tokenizers.__version__,
            "dtype_on_disk": str(dtype), "compute": "float32, attn_implementation=eager"}
    with open(os.path.join(d, "reference", "inputs.json"), "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print(name, "saved:", sorted(os.listdir(d)))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tokenizer = train_tokenizer(COMMON["vocab_size"])
    for name, (mt, extra, dtype, shard) in FAMILIES.items():
        try:
            build(name, mt, extra, dtype, shard, out, tokenizer)
        except Exception as e:  # keep going: report which family failed and why
            print(name, "FAILED:", repr(e))


if __name__ == "__main__":
    main()
