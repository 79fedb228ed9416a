"""Generate the shipped diffusers-format config folders under `configs/` (no hub access needed).

Each family folder (sd15, sd15-inpaint, sd2, sd2-v, sd2-inpaint, sdxl, sdxl-inpaint, sdxl-refiner) gets
`model_index.json`, `unet/config.json`, `vae/config.json`, `scheduler/scheduler_config.json` and the
text encoder config(s), with the values of the corresponding public diffusers repositories
(SD1.5, SD1.5-inpainting, SD2.1-base, SD2.1 (768, v), SD2-inpainting, SDXL base 1.0, SDXL inpainting 0.1,
SDXL refiner 1.0).  Safety checker / feature extractor are `null`; SDXL watermarking is off.

Tokenizers -- what diffusers does, and why the family folders hold no tokenizer files:
  `Pipeline.from_single_file(ckpt, config=<dir>, local_files_only=True)` reads `<dir>/model_index.json`,
  builds unet/vae/text encoders from their `config.json` plus the checkpoint's tensors, and loads every
  other listed component (scheduler, tokenizers) with `Class.from_pretrained(<dir>, subfolder=<name>)`,
  unless the component is passed as a keyword argument, which diffusers then uses as-is.
  Found with diffusers 0.42 / transformers 5.23: if a listed tokenizer folder is missing, loading does
  NOT fail -- transformers builds a 2-token CLIPTokenizer and every prompt becomes garbage ids.
  So, to keep one copy of the 1.4 MB BPE files per distinct tokenizer and make a forgotten tokenizer
  fail loudly, the tokenizer slots in model_index.json are `[null, null]`, the vocabularies live in
  `configs/tokenizers/{clip-l,openclip}/` (each complete, loadable with CLIPTokenizer.from_pretrained),
  and each family folder has a `tokenizers.json` naming the one per slot, e.g.
  `{"tokenizer": "clip-l", "tokenizer_2": "openclip"}`.  The loader passes them explicitly:
      kwargs = {slot: CLIPTokenizer.from_pretrained(CONFIGS / "tokenizers" / name) for slot, name in map}
      Pipeline.from_single_file(ckpt, config=str(family_dir), local_files_only=True, **kwargs)
  Without them, SD1/SD2 pipelines raise ValueError at load; SDXL ones get `None` tokenizers.
  `python tools/make_configs.py --materialize DEST` writes self-contained copies (tokenizer folders
  copied in, slots listed) for tools that cannot pass tokenizers.

Usage: python tools/make_configs.py [--out configs] [--materialize DEST]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SD_DOWN = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
SD_UP = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]

UNET_COMMON = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "center_input_sample": False,
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
}
UNET_SD15 = {
    **UNET_COMMON,
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "cross_attention_dim": 768,
    "down_block_types": SD_DOWN,
    "sample_size": 64,
    "up_block_types": SD_UP,
}
UNET_SD2 = {
    **UNET_SD15,
    "attention_head_dim": [5, 10, 20, 20],
    "cross_attention_dim": 1024,
    "dual_cross_attention": False,
    "num_class_embeds": None,
    "only_cross_attention": False,
    "upcast_attention": False,
    "use_linear_projection": True,
}
UNET_SDXL = {
    **UNET_COMMON,
    "addition_embed_type": "text_time",
    "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280],
    "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "projection_class_embeddings_input_dim": 2816,
    "sample_size": 128,
    "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "use_linear_projection": True,
}
UNET_REFINER = {
    **UNET_SDXL,
    "attention_head_dim": [6, 12, 24, 24],
    "block_out_channels": [384, 768, 1536, 1536],
    "cross_attention_dim": 1280,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "projection_class_embeddings_input_dim": 2560,
    "transformer_layers_per_block": 4,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
}
VAE_SD = {
    "_class_name": "AutoencoderKL",
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 512,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}
VAE_SDXL = {**VAE_SD, "force_upcast": True, "sample_size": 1024, "scaling_factor": 0.13025}

TEXT_COMMON = {
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "dropout": 0.0,
    "eos_token_id": 2,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "model_type": "clip_text_model",
    "pad_token_id": 1,
    "vocab_size": 49408,
}
CLIP_L = {**TEXT_COMMON, "architectures": ["CLIPTextModel"], "hidden_act": "quick_gelu", "hidden_size": 768,
          "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12, "projection_dim": 768}
# OpenCLIP ViT-H text tower as diffusers stores it: the last of the 24 resblocks is dropped (SD2 uses the
# penultimate layer), so 23 layers.
OPENCLIP_H = {**TEXT_COMMON, "architectures": ["CLIPTextModel"], "hidden_act": "gelu", "hidden_size": 1024,
              "intermediate_size": 4096, "num_attention_heads": 16, "num_hidden_layers": 23, "projection_dim": 512}
OPENCLIP_BIGG = {**TEXT_COMMON, "architectures": ["CLIPTextModelWithProjection"], "hidden_act": "gelu",
                 "hidden_size": 1280, "intermediate_size": 5120, "num_attention_heads": 20,
                 "num_hidden_layers": 32, "projection_dim": 1280}

SCHED_COMMON = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}
PNDM = {"_class_name": "PNDMScheduler", **SCHED_COMMON}
DDIM = {"_class_name": "DDIMScheduler", **SCHED_COMMON}
EULER = {"_class_name": "EulerDiscreteScheduler", **SCHED_COMMON, "interpolation_type": "linear",
         "sample_max_value": 1.0, "timestep_spacing": "leading", "use_karras_sigmas": False}

TF = ["transformers", "CLIPTokenizer"]
NULL = [None, None]


def _sd_family(pipeline: str, unet: dict, vae: dict, text: dict, sched: dict) -> dict:
    index = {"_class_name": pipeline, "feature_extractor": NULL, "requires_safety_checker": False,
             "safety_checker": NULL, "scheduler": ["diffusers", sched["_class_name"]],
             "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": NULL,
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
    tok = "openclip" if text is OPENCLIP_H else "clip-l"
    return {"model_index": index, "unet": unet, "vae": vae, "text_encoder": text, "scheduler": sched,
            "tokenizers": {"tokenizer": tok}}


def _xl_family(pipeline: str, unet: dict, *, refiner: bool = False, zeros: bool = True) -> dict:
    index = {"_class_name": pipeline, "add_watermarker": False, "force_zeros_for_empty_prompt": zeros,
             "scheduler": ["diffusers", "EulerDiscreteScheduler"],
             "text_encoder": NULL if refiner else ["transformers", "CLIPTextModel"],
             "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
             "tokenizer": NULL, "tokenizer_2": NULL,
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]}
    if pipeline != "StableDiffusionXLPipeline":
        index["requires_aesthetics_score"] = refiner
    family = {"model_index": index, "unet": unet, "vae": VAE_SDXL, "text_encoder_2": OPENCLIP_BIGG,
              "scheduler": EULER, "tokenizers": {"tokenizer_2": "openclip"}}
    if not refiner:
        family["text_encoder"] = CLIP_L
        family["tokenizers"] = {"tokenizer": "clip-l", "tokenizer_2": "openclip"}
    return family


def family_specs() -> dict[str, dict]:
    """Return {family: {component: config dict}} for every shipped family."""
    sd2_v_unet = {**UNET_SD2, "sample_size": 96, "upcast_attention": True}
    return {
        "sd15": _sd_family("StableDiffusionPipeline", UNET_SD15, VAE_SD, CLIP_L, PNDM),
        "sd15-inpaint": _sd_family("StableDiffusionInpaintPipeline", {**UNET_SD15, "in_channels": 9}, VAE_SD,
                                   CLIP_L, DDIM),
        "sd2": _sd_family("StableDiffusionPipeline", UNET_SD2, VAE_SD, OPENCLIP_H, PNDM),
        "sd2-v": _sd_family("StableDiffusionPipeline", sd2_v_unet, {**VAE_SD, "sample_size": 768}, OPENCLIP_H,
                            {**DDIM, "prediction_type": "v_prediction"}),
        "sd2-inpaint": _sd_family("StableDiffusionInpaintPipeline", {**UNET_SD2, "in_channels": 9}, VAE_SD,
                                  OPENCLIP_H, PNDM),
        "sdxl": _xl_family("StableDiffusionXLPipeline", UNET_SDXL),
        "sdxl-inpaint": _xl_family("StableDiffusionXLInpaintPipeline", {**UNET_SDXL, "in_channels": 9}),
        "sdxl-refiner": _xl_family("StableDiffusionXLImg2ImgPipeline", UNET_REFINER, refiner=True, zeros=False),
    }


def _dump(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_family(dest: Path, spec: dict, *, tokenizer_root: Path | None = None) -> Path:
    """Write one family folder; with `tokenizer_root`, copy the tokenizer files into it too."""
    spec = copy.deepcopy(spec)
    _dump(dest / "model_index.json", spec.pop("model_index"))
    tokenizers = spec.pop("tokenizers")
    _dump(dest / "tokenizers.json", tokenizers)
    for name, config in spec.items():
        filename = "scheduler_config.json" if name == "scheduler" else "config.json"
        _dump(dest / name / filename, config)
    if tokenizer_root is not None:
        index = json.loads((dest / "model_index.json").read_text())
        for slot, tok in tokenizers.items():
            shutil.copytree(tokenizer_root / tok, dest / slot, dirs_exist_ok=True)
            index[slot] = TF
        _dump(dest / "model_index.json", index)
    return dest


def main(argv: list[str] | None = None) -> int:
    """Write every family folder under --out (and optionally self-contained copies under --materialize)."""
    parser = argparse.ArgumentParser(description="Generate configs/<family>/ folders")
    parser.add_argument("--out", type=Path, default=REPO / "configs")
    parser.add_argument("--materialize", type=Path, help="also write self-contained folders (with tokenizers)")
    args = parser.parse_args(argv)
    for family, spec in family_specs().items():
        write_family(args.out / family, spec)
        if args.materialize:
            write_family(args.materialize / family, spec, tokenizer_root=args.out / "tokenizers")
    print(f"wrote {len(family_specs())} families to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
