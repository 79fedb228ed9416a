"""The tiny LoRA/embedding files of tests/support/tiny_addons.py, checked against the real diffusers pipelines.

What diffusers 0.42 + peft + transformers 5 do with them (relied on by the LoRA/embedding features):
  * kohya keys load through `pipe.load_lora_weights(path, adapter_name=...)`; SD1 accepts only diffusers-style
    UNet names (`lora_unet_down_blocks_0_attentions_0_…`), SDXL both those and SGM names (`…input_blocks_4_1_…`).
  * an adapter name equal to an nn.Module attribute ("half", "float", "to"…) fails: KeyError "attribute … exists".
  * a file that matches no module raises peft's `NoMatchingPeftModuleError` (a ValueError) and leaves the pipe clean;
    a shape mismatch raises RuntimeError, and if the UNet part had loaded already, the adapter stays half-loaded
    until `delete_adapters([name])`; unknown extra modules only log a warning; `lora_te2_` keys on SD1 are dropped.
  * weight 0 and `delete_adapters` give bit-identical outputs only if the components' parameters have
    `requires_grad=False`: peft sets that on the base weights, and torch's matmul takes another (1e-6-different)
    path for a non-contiguous input when the weight requires grad (SDXL's linear `proj_in`), even under
    `torch.inference_mode()`.  The `pipes` fixture therefore calls `requires_grad_(False)`, as a backend should.
"""
from __future__ import annotations

import logging
import shutil
from contextlib import contextmanager

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.support import tiny_addons
from tests.support.tiny_configs import tiny_configs

COMPONENTS = {"sd15": ("unet", "text_encoder"), "sdxl": ("unet", "text_encoder", "text_encoder_2")}
PROMPT = "a photo of a cat"


@pytest.fixture(scope="module")
def pipes(tmp_path_factory, tiny_cache):
    """``pipes(family)`` -> the diffusers pipeline the app loads for a tiny checkpoint (one per module)."""
    from modules import bootstrap
    from modules.interfaces import cli
    from tests.conftest import REPO
    from tests.support.tiny_models import cached_checkpoint

    loaded = {}

    def get(family: str):
        if family not in loaded:
            data = tmp_path_factory.mktemp(f"addons-{family}")
            (data / "models" / "Stable-diffusion").mkdir(parents=True)
            shutil.copy2(cached_checkpoint(family, "safetensors", tiny_cache), data / "models" / "Stable-diffusion")
            options = cli.parse(["--data-dir", str(data), "--use-cpu", "all", "--precision", "full"], {},
                                install_dir=REPO)
            ctx = bootstrap.create_context(options)
            ctx.models.ensure()
            pipe = ctx.models.loaded.handle.pipe
            for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
                if getattr(pipe, name, None) is not None:
                    getattr(pipe, name).requires_grad_(False)
            loaded[family] = (ctx, pipe)
        return loaded[family][1]
    return get


@pytest.fixture
def pipe(request, pipes):
    """The pipeline of the parametrized family, with every adapter and embedding removed afterwards."""
    pipe = pipes(request.param)
    yield pipe
    names = sorted({name for names in pipe.get_list_adapters().values() for name in names})
    if names:
        pipe.delete_adapters(names)
    pipe.unload_textual_inversion()


@contextmanager
def diffusers_log():
    """Collect what diffusers logs (its logger does not propagate to the root logger)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append
    logger = logging.getLogger("diffusers")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@torch.inference_mode()
def outputs(pipe) -> dict[str, torch.Tensor]:
    """Return UNet noise prediction and text-encoder hidden states for fixed seeded inputs."""
    generator = torch.Generator().manual_seed(0)
    unet = pipe.unet
    kwargs = {}
    if unet.config.addition_embed_type == "text_time":
        kwargs["added_cond_kwargs"] = {"text_embeds": torch.randn(2, 128, generator=generator),
                                       "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]] * 2)}
    # batch 2: the tiny UNet's 1x1 bottom level needs more than one value per GroupNorm group
    latents = torch.randn(2, unet.config.in_channels, 8, 8, generator=generator)
    context = torch.randn(2, 77, unet.config.cross_attention_dim, generator=generator)
    result = {"unet": unet(latents, 500, encoder_hidden_states=context, **kwargs).sample}
    for name in ("text_encoder", "text_encoder_2"):
        if getattr(pipe, name, None) is not None:
            tokenizer = getattr(pipe, "tokenizer" if name == "text_encoder" else "tokenizer_2")
            ids = tokenizer(PROMPT, padding="max_length", max_length=77, return_tensors="pt").input_ids
            result[name] = getattr(pipe, name)(ids).last_hidden_state
    return result


def assert_same(a: dict, b: dict) -> None:
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} output changed"


# ---- file layout ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family,te_prefixes,unet_example,te_layers", [
    ("sd15", ["lora_te_"], "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", {"lora_te_": 12}),
    ("sd2", ["lora_te_"], "lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_attn2_to_out_0",
     {"lora_te_": 23}),
    ("sdxl", ["lora_te1_", "lora_te2_"], "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q",
     {"lora_te1_": 12, "lora_te2_": 32}),
])
def test_kohya_lora_layout(tmp_path, family, te_prefixes, unet_example, te_layers):
    path = tiny_addons.build_kohya_lora(family, tmp_path / "x.safetensors", rank=2, metadata={"ss_output_name": "al"})
    state = load_file(path)
    modules = {key.split(".")[0] for key in state}
    assert all({f"{m}.lora_down.weight", f"{m}.lora_up.weight", f"{m}.alpha"} <= set(state) for m in modules)
    assert len(state) == 3 * len(modules)
    assert unet_example in modules
    assert {m.split("text_model")[0] for m in modules if not m.startswith("lora_unet_")} == set(te_prefixes)
    for prefix, layers in te_layers.items():
        projections = [m for m in modules if m.startswith(prefix)]
        assert len(projections) == 4 * layers
        assert f"{prefix}text_model_encoder_layers_0_self_attn_q_proj" in projections
    assert state[f"{unet_example}.lora_down.weight"].shape[0] == 2 and float(state[f"{unet_example}.alpha"]) == 2.0
    with safe_open(str(path), "pt") as handle:
        assert handle.metadata() == {"ss_output_name": "al"}


def test_kohya_lora_options(tmp_path):
    base = load_file(tiny_addons.build_kohya_lora("sd15", tmp_path / "a.safetensors"))
    scaled = load_file(tiny_addons.build_kohya_lora("sd15", tmp_path / "b.safetensors", scale=3.0))
    unet_only = load_file(tiny_addons.build_kohya_lora("sd15", tmp_path / "c.safetensors", te=False))
    up = "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight"
    assert torch.equal(scaled[up], 3.0 * base[up])
    assert torch.equal(scaled[up.replace("up.", "down.")], base[up.replace("up.", "down.")])
    assert set(unet_only) == {key for key in base if key.startswith("lora_unet_")}
    again = tiny_addons.build_kohya_lora("sd15", tmp_path / "d.safetensors")
    assert again.read_bytes() == (tmp_path / "a.safetensors").read_bytes()


def test_embedding_layouts(tmp_path):
    sd1 = load_file(tiny_addons.build_embedding("sd15", tmp_path / "a.safetensors", vectors=3))
    sd2 = load_file(tiny_addons.build_embedding("sd2", tmp_path / "b.safetensors"))
    sdxl = load_file(tiny_addons.build_embedding("sdxl", tmp_path / "c.safetensors"))
    wrong = load_file(tiny_addons.build_wrong_width_embedding(tmp_path / "w.safetensors"))
    assert sd1["emb_params"].shape == (3, tiny_configs("sd15")["text_encoder"]["hidden_size"])
    assert sd2["emb_params"].shape == (2, tiny_configs("sd2")["text_encoder"]["hidden_size"])
    widths = tiny_configs("sdxl")
    assert sdxl["clip_l"].shape == (2, widths["text_encoder"]["hidden_size"])
    assert sdxl["clip_g"].shape == (2, widths["text_encoder_2"]["hidden_size"])
    assert wrong["emb_params"].shape[1] not in (64, 128)
    pt = torch.load(tiny_addons.build_embedding("sd15", tmp_path / "old.pt", fmt="pt"), weights_only=True)
    assert set(pt) == {"string_to_token", "string_to_param", "name", "step", "sd_checkpoint", "sd_checkpoint_name"}
    assert pt["name"] == "old" and pt["string_to_token"] == {"*": 265} and pt["string_to_param"]["*"].shape == (2, 64)


# ---- LoRA on the real pipelines ---------------------------------------------------------------------------

@pytest.mark.parametrize("pipe,sgm_unet", [("sd15", None), ("sdxl", None), ("sdxl", False)], indirect=["pipe"])
def test_kohya_lora_loads_cleanly_and_changes_every_component(pipe, tmp_path, sgm_unet):
    family = "sdxl" if hasattr(pipe, "text_encoder_2") else "sd15"
    path = tiny_addons.build_kohya_lora(family, tmp_path / "x.safetensors", sgm_unet=sgm_unet)
    before = outputs(pipe)
    with diffusers_log() as records:
        pipe.load_lora_weights(str(path), adapter_name="x")
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []
    assert pipe.get_list_adapters() == {name: ["x"] for name in COMPONENTS[family]}
    after = outputs(pipe)
    for name in COMPONENTS[family]:
        change = (after[name] - before[name]).abs().mean() / before[name].abs().mean()
        assert change > 0.3, f"{name} changed by only {change:.3f}"


@pytest.mark.parametrize("pipe", ["sd15", "sdxl"], indirect=True)
def test_separate_weights_zero_weight_and_delete_are_exact(pipe, tmp_path):
    family = "sdxl" if hasattr(pipe, "text_encoder_2") else "sd15"
    baseline = outputs(pipe)
    pipe.load_lora_weights(str(tiny_addons.build_kohya_lora(family, tmp_path / "x.safetensors")), adapter_name="x")
    full = outputs(pipe)
    pipe.set_adapters(["x"], adapter_weights=[{name: 1.0 for name in COMPONENTS[family]} | {"unet": 0.0}])
    text_only = outputs(pipe)
    assert torch.equal(text_only["unet"], baseline["unet"])
    assert all(torch.equal(text_only[name], full[name]) for name in COMPONENTS[family] if name != "unet")
    pipe.set_adapters(["x"], adapter_weights=[{name: 0.0 for name in COMPONENTS[family]} | {"unet": 1.0}])
    unet_only = outputs(pipe)
    assert torch.equal(unet_only["unet"], full["unet"])
    assert torch.equal(unet_only["text_encoder"], baseline["text_encoder"])
    second = tiny_addons.build_kohya_lora(family, tmp_path / "y.safetensors", seed=1)
    pipe.load_lora_weights(str(second), adapter_name="y")
    pipe.set_adapters(["x", "y"], adapter_weights=[0.0, 0.0])
    assert_same(outputs(pipe), baseline)
    pipe.delete_adapters(["x", "y"])
    assert pipe.get_list_adapters() == {}
    assert_same(outputs(pipe), baseline)


@pytest.mark.parametrize("pipe", ["sd15"], indirect=True)
def test_mismatched_lora_raises_and_leaves_sd1_clean(pipe, tmp_path):
    """SDXL keys on SD1: diffusers' SD1 loader does not map SGM names, so peft finds no target module.

    Raises `peft.tuners.tuners_utils.NoMatchingPeftModuleError` (subclass of ValueError) "Target modules {…} not
    found in the base model…", after logging it at ERROR ("Loading <name> was unsuccessful…"); no adapter remains.
    An SGM-named LoRA made for SD1 itself fails the same way.
    """
    before = outputs(pipe)
    for path in (tiny_addons.build_mismatched_lora(tmp_path / "xl.safetensors"),
                 tiny_addons.build_kohya_lora("sd15", tmp_path / "sgm.safetensors", sgm_unet=True)):
        with diffusers_log() as records, pytest.raises(ValueError, match="not found in the base model") as info:
            pipe.load_lora_weights(str(path), adapter_name="bad")
        assert type(info.value).__name__ == "NoMatchingPeftModuleError"
        assert any(r.levelno == logging.ERROR and "Loading bad was unsuccessful" in r.getMessage() for r in records)
        assert pipe.get_list_adapters() == {}
        assert_same(outputs(pipe), before)


@pytest.mark.parametrize("pipe", ["sd15"], indirect=True)
def test_partial_failures_and_unknown_keys(pipe, tmp_path):
    """A UNet that fits with a text encoder that doesn't: RuntimeError, but the UNet adapter stays until deleted.

    Unknown modules next to valid ones load with a WARNING "…unexpected keys…"; `lora_te2_` keys on SD1 vanish.
    """
    good = load_file(tiny_addons.build_kohya_lora("sd15", tmp_path / "good.safetensors"))
    xl = load_file(tiny_addons.build_mismatched_lora(tmp_path / "xl.safetensors"))
    wide_te = {k: v for k, v in good.items() if k.startswith("lora_unet_")}
    wide_te |= {k.replace("lora_te2_", "lora_te_"): v for k, v in xl.items() if "te2_text_model_encoder_layers_0_" in k}
    save_file(wide_te, str(tmp_path / "wide_te.safetensors"))
    before = outputs(pipe)
    with pytest.raises(RuntimeError, match="ignore_mismatched_sizes"):
        pipe.load_lora_weights(str(tmp_path / "wide_te.safetensors"), adapter_name="partial")
    assert "partial" in pipe.get_list_adapters()["unet"]
    assert not torch.equal(outputs(pipe)["unet"], before["unet"])
    pipe.delete_adapters(["partial"])
    assert_same(outputs(pipe), before)

    extra = good | {k: v for k, v in xl.items() if k.startswith("lora_te2_")}
    extra |= {"lora_unet_foo_to_q.lora_down.weight": torch.zeros(4, 32),
              "lora_unet_foo_to_q.lora_up.weight": torch.zeros(32, 4), "lora_unet_foo_to_q.alpha": torch.tensor(4.0)}
    save_file(extra, str(tmp_path / "extra.safetensors"))
    with diffusers_log() as records:
        pipe.load_lora_weights(str(tmp_path / "extra.safetensors"), adapter_name="extra")
    warnings = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "unexpected keys" in warnings[0] and "foo.to_q.lora_A" in warnings[0]
    assert pipe.get_list_adapters() == {"unet": ["extra"], "text_encoder": ["extra"]}


# ---- textual inversion ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pipe", ["sd15"], indirect=True)
@pytest.mark.parametrize("fmt", ["safetensors", "pt"])
def test_sd1_embedding_loads(pipe, tmp_path, fmt):
    """Token "emb" itself is in CLIP's vocabulary, which diffusers refuses; the tests use "tinyemb"."""
    path = tiny_addons.build_embedding("sd15", tmp_path / f"tinyemb.{fmt}", vectors=2, fmt=fmt)
    before = outputs(pipe)["text_encoder"]
    pipe.load_textual_inversion(str(path), token="tinyemb")
    ids = pipe.tokenizer(pipe.maybe_convert_prompt("a tinyemb cat", pipe.tokenizer)).input_ids
    assert len(ids) == 2 + 4
    rows = pipe.text_encoder.get_input_embeddings().weight[ids[2:4]]
    if fmt == "safetensors":
        expected = load_file(path)["emb_params"]
    else:
        expected = torch.load(path, weights_only=True)["string_to_param"]["*"]
    assert torch.equal(rows, expected)
    assert torch.equal(outputs(pipe)["text_encoder"], before)  # the prompt without the token is unchanged


@pytest.mark.parametrize("pipe", ["sdxl"], indirect=True)
def test_sdxl_embedding_loads_into_both_encoders(pipe, tmp_path):
    state = load_file(tiny_addons.build_embedding("sdxl", tmp_path / "xemb.safetensors"))
    pipe.load_textual_inversion(state["clip_l"], token="xemb", text_encoder=pipe.text_encoder,
                                tokenizer=pipe.tokenizer)
    pipe.load_textual_inversion(state["clip_g"], token="xemb", text_encoder=pipe.text_encoder_2,
                                tokenizer=pipe.tokenizer_2)
    for tokenizer, encoder, key in ((pipe.tokenizer, pipe.text_encoder, "clip_l"),
                                    (pipe.tokenizer_2, pipe.text_encoder_2, "clip_g")):
        ids = tokenizer(pipe.maybe_convert_prompt("xemb", tokenizer)).input_ids[1:-1]
        assert torch.equal(encoder.get_input_embeddings().weight[ids], state[key])


@pytest.mark.parametrize("pipe", ["sd15", "sdxl"], indirect=True)
def test_wrong_width_embedding_is_refused_without_side_effects(pipe, tmp_path):
    """diffusers raises ValueError "Loaded embeddings are of incorrect shape…" before touching the tokenizer."""
    path = tiny_addons.build_wrong_width_embedding(tmp_path / "wrongemb.safetensors")
    size = len(pipe.tokenizer)
    with pytest.raises(ValueError, match="incorrect shape"):
        pipe.load_textual_inversion(str(path), token="wrongemb")
    assert len(pipe.tokenizer) == size
    assert pipe.text_encoder.get_input_embeddings().weight.shape[0] == size
