"""Model-manager benchmark: our app vs plain diffusers on a full-size SD1.5-layout checkpoint, on the CPU.

One command:  HF_HUB_OFFLINE=1 venv/bin/python bench/model_manager_bench.py

The parent process builds the full-size files when missing (bench/.cache/: two random SD1.5 checkpoints,
~2.1 GB fp16 each, and a rank-32 kohya LoRA), reads them once so both sides start from a warm page cache,
then runs each side in its own child process (so one side's memory never shows in the other's RSS):

  --side ours   the app, built as the web UI builds it (bootstrap.create_context), driven through
                ctx.models.select_checkpoint / ctx.models.set_loras / ctx.generation.txt2img
  --side plain  diffusers alone doing the same work: StableDiffusionPipeline.from_single_file, two pipelines
                kept in a dict (a "switch" is picking the other one), load_lora_weights + set_adapters,
                disable_lora / enable_lora, delete_adapters, unload_lora_weights

and prints one table (ours, plain, ours/plain, target) and writes bench/results-model-manager.json.
Both sides run the same sequence on the same files with the same dtype (ours picks it: fp32 on a CPU
without bf16), so the ratio is our overhead over the bare library calls.  Timings are wall-clock
(time.perf_counter) and noisy on a shared 2-core machine: this is a report, never a pass/fail test.
See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CACHE = REPO / "bench" / ".cache"
CKPT_A = CACHE / "full-sd15.safetensors"
CKPT_B = CACHE / "full-sd15-b.safetensors"
LORA = CACHE / "full-lora-r32.safetensors"
RESULTS = REPO / "bench" / "results-model-manager.json"
PROMPT = "a photo of a cat"
TARGET_S = 0.5  # cached switch, LoRA apply, LoRA restore
RSS_TARGET = 0.10  # RSS after 20 switches within 10 % of the RSS after the first round
CONTENTION_WARN = 0.25  # average cores used by other processes above which the comparison is flagged


# ----------------------------------------------------------------------------------------------- helpers

def rss_bytes() -> int:
    """Resident set size of this process now (/proc/self/statm, field 2, in pages)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_snapshot() -> tuple[float, float, float]:
    """(CPU seconds the whole machine was busy, CPU seconds of this process, wall seconds) since boot/start."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user nice system [idle iowait] irq softirq steal
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.monotonic()


def others_load(since: tuple[float, float, float]) -> dict:
    """CPU used by other processes since `since`: seconds and average cores (0 = the machine was ours)."""
    now = cpu_snapshot()
    wall = now[2] - since[2]
    others = max(0.0, (now[0] - since[0]) - (now[1] - since[1]))
    return {"wall_s": wall, "cpu_s": others, "cores": others / wall if wall > 0 else 0.0}


def timed(fn):
    """Run ``fn()``; return (seconds, result)."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def say(side: str, text: str) -> None:
    """Progress line on stderr (the table goes to stdout)."""
    print(f"[{side}] {text}", file=sys.stderr, flush=True)


def summary(samples: list[float]) -> dict:
    """First, median, min and max of timing samples (seconds)."""
    return {"first": samples[0], "median": statistics.median(samples), "min": min(samples),
            "max": max(samples), "samples": samples}


def bare_call(pipe):
    """One bare diffusers pipeline call: 64x64, 2 steps, CFG 7, seeded CPU generator, numpy output."""
    import torch

    with torch.inference_mode():
        return pipe(prompt=[PROMPT], negative_prompt=[""], num_inference_steps=2, guidance_scale=7.0, width=64,
                    height=64, generator=torch.Generator("cpu").manual_seed(1), output_type="np").images


# ----------------------------------------------------------------------------------------------- our side

class OursSide:
    """The app as the web UI builds it, in a throwaway data folder holding links to the bench files."""

    name = "ours"

    def __init__(self, data_dir: Path):
        from modules import bootstrap
        from modules.core.backend import LoraRequest
        from modules.core.params import Txt2ImgRequest
        from modules.interfaces import cli

        self._request_cls, self._lora_cls = Txt2ImgRequest, LoraRequest
        ckpt_dir, lora_dir = data_dir / "models" / "Stable-diffusion", data_dir / "models" / "Lora"
        for folder, files in ((ckpt_dir, (CKPT_A, CKPT_B)), (lora_dir, (LORA,))):
            folder.mkdir(parents=True, exist_ok=True)
            for path in files:
                (folder / path.name).symlink_to(path)
        options = cli.parse(["--data-dir", str(data_dir), "--use-cpu", "all", "--no-hashing"], {}, install_dir=REPO)
        self.ctx = bootstrap.create_context(options)
        self.ctx.catalog.refresh()
        self.ctx.addons.refresh()
        self.ctx.settings.update({"sd_checkpoints_limit": 2})
        self.lora_name = LORA.stem
        self.lora_link = lora_dir / LORA.name

    def load(self, path: Path) -> dict:
        """Cold load (not cached yet) through select_checkpoint."""
        loaded = self.ctx.models.select_checkpoint(path.name)
        return {"dtype": loaded.dtype, "device": loaded.device, "family": loaded.family.value,
                "backend_load_seconds": loaded.load_seconds}

    def switch(self, path: Path) -> float:
        """Switch to a cached checkpoint; returns the manager's own measure (last_switch_seconds)."""
        self.ctx.models.select_checkpoint(path.name)
        return self.ctx.models.last_switch_seconds

    def generate(self, lora: bool = False):
        """txt2img 64x64, 2 Euler steps, optionally with the LoRA tag in the prompt."""
        prompt = PROMPT + (f" <lora:{self.lora_name}:1>" if lora else "")
        return self.ctx.generation.txt2img(self._request_cls(prompt=prompt, steps=2, width=64, height=64, seed=1,
                                                             sampler_name="Euler", save_images=False))

    def bare_generate(self):
        """The plain side's bare pipe(...) call on our active pipeline (its scheduler is Euler after a job):
        tells our per-job overhead apart from the speed of the model as we load it."""
        return bare_call(self.ctx.models.loaded.handle.pipe)

    def _set(self, wanted: bool, keep: int = 4):
        loaded = self.ctx.models.loaded
        requests = [self._lora_cls(self.lora_name, self.lora_link, 1.0, 1.0)] if wanted else []
        report = self.ctx.models.set_loras(loaded, requests, keep=keep)
        if wanted and report.applied != (self.lora_name,):
            raise RuntimeError(f"LoRA not applied: {report.failed}")
        return report

    def lora_apply(self):
        """set_loras([lora]) with the adapter not loaded: reads the file, injects the adapter."""
        return self._set(True)

    def lora_restore(self):
        """set_loras([]): deactivates the adapter (kept for reuse, keep=4)."""
        return self._set(False)

    def lora_reapply(self):
        """set_loras([lora]) with the adapter still loaded: only re-activates it."""
        return self._set(True)

    def lora_remove(self):
        """set_loras([], keep=0): deactivates and deletes the adapter."""
        return self._set(False, keep=0)

    def lora_unload(self):
        """No separate step in the app (removal is lora_remove)."""
        return None

    def gen_with_lora_cold(self):
        """txt2img with the tag; the adapter is not loaded yet."""
        return self.generate(lora=True)

    def gen_with_lora_cached(self):
        """txt2img with the tag; the adapter is loaded and active."""
        return self.generate(lora=True)

    def gen_after_lora(self):
        """txt2img without the tag right after one with it (the app deactivates the adapter)."""
        return self.generate(lora=False)

    def cleanup_lora(self):
        """Delete the adapter (untimed)."""
        self._set(False, keep=0)


# ----------------------------------------------------------------------------------------------- plain side

class PlainSide:
    """Bare diffusers calls doing the same work; two pipelines kept in a dict."""

    name = "plain"
    adapter = "bench_lora"

    def __init__(self, dtype: str):
        import torch

        self.torch = torch
        self.dtype = getattr(torch, dtype)
        self.pipes: dict[Path, object] = {}
        self.pipe = None

    def load(self, path: Path) -> dict:
        """from_single_file with the shipped config folder and its tokenizer passed explicitly."""
        from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
        from transformers import CLIPTokenizer

        tokenizer = CLIPTokenizer.from_pretrained(str(REPO / "configs" / "tokenizers" / "clip-l"),
                                                  local_files_only=True)
        pipe = StableDiffusionPipeline.from_single_file(str(path), config=str(REPO / "configs" / "sd15"),
                                                        tokenizer=tokenizer, local_files_only=True,
                                                        torch_dtype=self.dtype)
        pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)  # the app's "Euler"
        pipe.set_progress_bar_config(disable=True)
        self.pipes[path] = self.pipe = pipe
        return {"dtype": str(pipe.unet.dtype).replace("torch.", ""), "device": str(pipe.device)}

    def switch(self, path: Path) -> float:
        """Pick the other cached pipeline."""
        self.pipe = self.pipes[path]
        return 0.0

    def generate(self, lora: bool = False):
        """The same job as the app's: 64x64, 2 steps, CFG 7, seeded CPU generator, numpy output."""
        return bare_call(self.pipe)

    def bare_generate(self):
        """The same as generate."""
        return bare_call(self.pipe)

    def lora_apply(self):
        """load_lora_weights + set_adapters (the same weights the app sets: unet and text encoder 1.0)."""
        self.pipe.load_lora_weights(str(LORA), adapter_name=self.adapter)
        self.pipe.set_adapters([self.adapter], adapter_weights=[1.0])

    def lora_restore(self):
        """disable_lora (the adapter stays loaded)."""
        self.pipe.disable_lora()

    def lora_reapply(self):
        """enable_lora + set_adapters on the loaded adapter."""
        self.pipe.enable_lora()
        self.pipe.set_adapters([self.adapter], adapter_weights=[1.0])

    def lora_remove(self):
        """delete_adapters."""
        self.pipe.delete_adapters(self.adapter)

    def lora_unload(self):
        """unload_lora_weights: removes every LoRA layer from the model."""
        self.pipe.unload_lora_weights()

    def gen_with_lora_cold(self):
        """Apply the LoRA from file, then generate."""
        self.lora_apply()
        return self.generate()

    def gen_with_lora_cached(self):
        """Generate with the adapter active."""
        return self.generate()

    def gen_after_lora(self):
        """Deactivate the adapter, then generate."""
        self.lora_restore()
        return self.generate()

    def cleanup_lora(self):
        """Delete the adapter (untimed)."""
        self.pipe.delete_adapters(self.adapter)


# ----------------------------------------------------------------------------------------------- one side

def run_side(side, args) -> dict:
    """The common sequence; returns every measurement (seconds, bytes)."""
    out: dict = {"side": side.name, "rss": {"start": rss_bytes()}, "others": {}}
    tag = side.name
    side_start = cpu_snapshot()

    # 1. first loads (A, then B: B's load pays no one-time import/initialisation cost)
    for key, path in (("load_a", CKPT_A), ("load_b", CKPT_B)):
        seconds, info = timed(lambda path=path: side.load(path))
        out[key] = seconds
        out.setdefault("model", info)
        out["rss"][f"after_{key}"] = rss_bytes()
        say(tag, f"{key}: {seconds:.2f} s  (RSS {rss_bytes() / 1e9:.2f} GB)")
    out["first_txt2img"], _ = timed(side.generate)  # on B; pays the first-call costs, like a user's first job
    say(tag, f"first txt2img 64x64 2 steps: {out['first_txt2img']:.2f} s")

    # 2. cached switches, nothing in between: B->A->B ... (args.reps round trips)
    walls, own = [], []
    for path in [CKPT_A, CKPT_B] * args.reps:
        seconds, inner = timed(lambda path=path: side.switch(path))
        walls.append(seconds)
        own.append(inner)
    out["switch"] = summary(walls)
    out["switch_reported"] = summary(own)
    say(tag, f"cached switch: median {out['switch']['median'] * 1e3:.2f} ms, max {out['switch']['max'] * 1e3:.2f} ms")

    out["others"]["loads_and_switches"] = others_load(side_start)
    phase_start = cpu_snapshot()

    # 3. 20 switches between the two cached models, a txt2img after each (unless --no-switch-gen); RSS
    loop_switch, loop_gen = [], []
    for i in range(args.switches):
        seconds, _ = timed(lambda i=i: side.switch(CKPT_A if i % 2 == 0 else CKPT_B))
        loop_switch.append(seconds)
        if args.switch_gen:
            loop_gen.append(timed(side.generate)[0])
        if i == 1:
            out["rss"]["after_first_round"] = rss_bytes()
    out["rss"]["after_switches"] = rss_bytes()
    out["loop_switch"] = summary(loop_switch)
    if loop_gen:
        out["loop_txt2img"] = summary(loop_gen)
    first, last = out["rss"]["after_first_round"], out["rss"]["after_switches"]
    out["rss"]["growth"] = (last - first) / first
    say(tag, f"{args.switches} switches: RSS {first / 1e9:.2f} -> {last / 1e9:.2f} GB "
             f"({out['rss']['growth'] * 100:+.1f} %)")

    out["others"]["switch_loop"] = others_load(phase_start)
    phase_start = cpu_snapshot()

    # 4. LoRA on the active model (B): apply from file, restore, re-apply, restore, delete -- args.reps times
    steps = {"lora_apply": [], "lora_restore": [], "lora_reapply": [], "lora_remove": []}
    out["rss"]["before_lora"] = rss_bytes()
    for rep in range(args.reps):
        for key, fn in (("lora_apply", side.lora_apply), ("lora_restore", side.lora_restore),
                        ("lora_reapply", side.lora_reapply), ("lora_restore", side.lora_restore),
                        ("lora_remove", side.lora_remove)):
            steps[key].append(timed(fn)[0])
        say(tag, "LoRA rep %d: apply %.3f s, restore %.3f s, re-apply %.3f s, remove %.3f s" % (
            rep + 1, steps["lora_apply"][-1], steps["lora_restore"][-2], steps["lora_reapply"][-1],
            steps["lora_remove"][-1]))
    out["rss"]["after_lora"] = rss_bytes()
    for key, samples in steps.items():
        out[key] = summary(samples)
    if side.name == "plain":  # apply on a model without LoRA layers, then unload_lora_weights
        fresh, unload = [], []
        for _ in range(args.reps):
            fresh.append(timed(side.lora_apply)[0])
            unload.append(timed(side.lora_unload)[0])
        out["lora_apply_fresh"], out["lora_unload"] = summary(fresh), summary(unload)
        say(tag, f"LoRA apply on a clean model {statistics.median(fresh):.3f} s, "
                 f"unload_lora_weights {statistics.median(unload):.3f} s")

    out["others"]["lora"] = others_load(phase_start)
    phase_start = cpu_snapshot()

    # 5. full txt2img with and without the LoRA
    if args.txt2img:
        gen = {}
        for key, fn in (("plain", side.generate), ("lora_cold", side.gen_with_lora_cold),
                        ("lora_cached", side.gen_with_lora_cached), ("after_lora", side.gen_after_lora),
                        ("plain_again", side.generate)):
            gen[key] = timed(fn)[0]
        side.cleanup_lora()
        gen["bare_pipe"] = statistics.median(timed(side.bare_generate)[0] for _ in range(3))
        out["txt2img"] = gen
        say(tag, "txt2img: " + ", ".join(f"{k} {v:.2f} s" for k, v in gen.items()))

    out["others"]["txt2img"] = others_load(phase_start)
    out["others"]["side"] = others_load(side_start)
    say(tag, f"other processes used {out['others']['side']['cores']:.2f} cores on average meanwhile")
    out["rss"]["end"] = rss_bytes()
    out["rss"]["peak"] = peak_rss_bytes()
    return out


def profile_lora_apply(side: OursSide, path: Path) -> dict:
    """cProfile one LoRA apply on a model that never had one; cumulative seconds of the known stages."""
    side.switch(path)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(side.lora_apply)
    wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    stages = {  # label -> function names (the largest cumulative time among them is reported)
        "total: apply_loras (our adapter)": ("apply_loras",),
        "pipe.load_lora_weights": ("load_lora_weights",),
        "  lora_state_dict (read + convert)": ("lora_state_dict",),
        "    file read (_fetch_state_dict)": ("_fetch_state_dict",),
        "    kohya -> diffusers keys": ("_convert_non_diffusers_lora_to_diffusers",),
        "  load_lora_into_unet": ("load_lora_into_unet",),
        "  load_lora_into_text_encoder": ("load_lora_into_text_encoder",),
        "    diffusers -> peft keys": ("convert_unet_state_dict_to_peft", "convert_state_dict_to_peft"),
        "    PEFT injection (inject_adapter_in_model)": ("inject_adapter_in_model",),
        "    weights into adapters (set_peft_model_state_dict)": ("set_peft_model_state_dict",),
        "pipe.set_adapters": ("set_adapters",),
        "pipe.enable_lora": ("enable_lora",),
        "pipe.get_list_adapters": ("get_list_adapters",),
    }
    found: dict[str, float] = {}
    for label, names in stages.items():
        times = [row[3] for key, row in stats.stats.items() if key[2] in names]
        if times:
            found[label] = max(times)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
    side.cleanup_lora()
    return {"wall_under_profiler": wall, "stages": found, "top_cumulative": text.getvalue()}


def child(args) -> int:
    """Run one side in this process and write its measurements to --json."""
    import torch

    started = time.perf_counter()
    if args.side == "ours":
        import logging

        logging.basicConfig(level=logging.WARNING)
        with tempfile.TemporaryDirectory(prefix="mm-bench-") as tmp:
            side = OursSide(Path(tmp))
            out = run_side(side, args)
            if args.profile:
                out["lora_profile"] = profile_lora_apply(side, CKPT_A)
                say("ours", "profiled LoRA apply on A: " + ", ".join(
                    f"{k.strip()} {v:.3f}" for k, v in out["lora_profile"]["stages"].items()))
            side.ctx.models.unload()
    else:
        from diffusers.utils import logging as diffusers_logging

        diffusers_logging.disable_progress_bar()  # cosmetic: the "Loading pipeline components" bars
        out = run_side(PlainSide(args.dtype), args)
    out["threads"] = torch.get_num_threads()
    out["seconds"] = time.perf_counter() - started
    Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


# ----------------------------------------------------------------------------------------------- parent

def ensure_files() -> None:
    """Build the two checkpoints and the LoRA when missing."""
    for path, cmd in ((CKPT_A, ["bench/make_full_sd15.py", str(CKPT_A), "--seed", "0"]),
                      (CKPT_B, ["bench/make_full_sd15.py", str(CKPT_B), "--seed", "1"]),
                      (LORA, ["bench/make_full_lora.py", str(LORA)])):
        if not path.exists():
            print(f"building {path.relative_to(REPO)} ...", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, *cmd], cwd=REPO, check=True)


def warm_page_cache(paths) -> float:
    """Read each file once so neither side pays the disk read (both then load from the page cache)."""
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(64 << 20):
                pass
    return time.perf_counter() - started


def run_child(side: str, args, dtype: str = "float32") -> dict:
    """Run `--side side` in a fresh interpreter and return its JSON."""
    with tempfile.TemporaryDirectory(prefix="mm-bench-out-") as tmp:
        out = Path(tmp) / f"{side}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--side", side, "--json", str(out), "--dtype", dtype,
               "--reps", str(args.reps), "--switches", str(args.switches)]
        cmd += [] if args.switch_gen else ["--no-switch-gen"]
        cmd += [] if args.txt2img else ["--no-txt2img"]
        cmd += [] if args.profile else ["--no-profile"]
        subprocess.run(cmd, cwd=REPO, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        return json.loads(out.read_text(encoding="utf-8"))


def fmt_s(value: float | None) -> str:
    """Seconds, in the unit that keeps 3 significant digits readable."""
    if value is None:
        return "-"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} us"


def ratio(ours: float | None, plain: float | None) -> str:
    """ours / plain, or why there is none."""
    if ours is None or plain is None:
        return "-"
    if plain < 1e-4:
        return "n/a (plain ~0)"
    return f"{ours / plain:.2f}x"


def rows(ours: dict, plain: dict) -> list[tuple[str, float | None, float | None, str, str]]:
    """(label, ours, plain, kind, target note) for the table; kind is 's' (seconds) or 'gb'."""

    def med(side: dict, key: str, stat: str = "median"):
        return side[key][stat] if key in side else None

    def target(value, limit=TARGET_S):
        return "-" if value is None else (f"< {limit} s: " + ("yes" if value < limit else "NO"))

    table = [
        ("first load, checkpoint A (cold process)", ours["load_a"], plain["load_a"], "s", ""),
        ("first load, checkpoint B", ours["load_b"], plain["load_b"], "s", ""),
        ("cached switch A<->B (median)", med(ours, "switch"), med(plain, "switch"), "s",
         target(med(ours, "switch"))),
        ("cached switch A<->B (max)", med(ours, "switch", "max"), med(plain, "switch", "max"), "s",
         target(med(ours, "switch", "max"))),
        (f"cached switch between txt2img jobs (median of {len(ours['loop_switch']['samples'])})",
         med(ours, "loop_switch"), med(plain, "loop_switch"), "s", target(med(ours, "loop_switch"))),
        ("LoRA r32 apply from file, first (clean model)", med(ours, "lora_apply", "first"),
         med(plain, "lora_apply", "first"), "s", target(med(ours, "lora_apply", "first"))),
        ("LoRA r32 apply from file (median)", med(ours, "lora_apply"), med(plain, "lora_apply"), "s",
         target(med(ours, "lora_apply"))),
        ("LoRA restore: deactivate, keep loaded (median)", med(ours, "lora_restore"), med(plain, "lora_restore"),
         "s", target(med(ours, "lora_restore"))),
        ("LoRA re-apply, adapter still loaded (median)", med(ours, "lora_reapply"), med(plain, "lora_reapply"),
         "s", target(med(ours, "lora_reapply"))),
        ("LoRA removal: delete adapter (median)", med(ours, "lora_remove"), med(plain, "lora_remove"), "s",
         target(med(ours, "lora_remove"))),
        ("LoRA unload_lora_weights (median)", None, med(plain, "lora_unload"), "s", ""),
    ]
    if "txt2img" in ours and "txt2img" in plain:
        o, p = ours["txt2img"], plain["txt2img"]
        table += [
            ("txt2img 64x64 2 steps, no LoRA", o["plain"], p["plain"], "s", ""),
            ("txt2img + LoRA tag, adapter not loaded", o["lora_cold"], p["lora_cold"], "s", ""),
            ("txt2img + LoRA tag, adapter loaded", o["lora_cached"], p["lora_cached"], "s", ""),
            ("txt2img without tag right after (restore)", o["after_lora"], p["after_lora"], "s", ""),
            ("bare pipe(...) call on the side's pipeline (median of 3)", o["bare_pipe"], p["bare_pipe"], "s", ""),
        ]
    if "loop_txt2img" in ours and "loop_txt2img" in plain:
        table.append(("txt2img after each switch of the RSS loop (median)", med(ours, "loop_txt2img"),
                      med(plain, "loop_txt2img"), "s", ""))
    r_o, r_p = ours["rss"], plain["rss"]
    growth = r_o["growth"]
    table += [
        ("RSS after 2 loads", r_o["after_load_b"] / 1e9, r_p["after_load_b"] / 1e9, "gb", ""),
        ("RSS after the first switch round (B->A->B)", r_o["after_first_round"] / 1e9,
         r_p["after_first_round"] / 1e9, "gb", ""),
        (f"RSS after {len(ours['loop_switch']['samples'])} switches", r_o["after_switches"] / 1e9,
         r_p["after_switches"] / 1e9, "gb",
         f"within {RSS_TARGET:.0%}: " + ("yes" if abs(growth) <= RSS_TARGET else "NO") + f" ({growth:+.1%})"),
        ("peak RSS of the side's process", r_o["peak"] / 1e9, r_p["peak"] / 1e9, "gb", ""),
    ]
    return table


def render(table) -> str:
    """A plain-text table."""
    head = ("measure", "ours", "plain diffusers", "ours/plain", "target (ours)")
    lines = []
    for label, o, p, kind, note in table:
        if kind == "gb":
            cells = (f"{o:.2f} GB", f"{p:.2f} GB", f"{o / p:.2f}x")
        else:
            cells = (fmt_s(o), fmt_s(p), ratio(o, p))
        lines.append((label, *cells, note))
    widths = [max(len(str(row[i])) for row in [head, *lines]) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" if i in (0, 4) else f"{{:>{w}}}" for i, w in enumerate(widths))
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt.format(*head), rule, *(fmt.format(*row) for row in lines)])


def git_head() -> str | None:
    """The commit benchmarked (None outside git)."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def parent(args) -> int:
    """Build files, run both sides, print and save the comparison."""
    import diffusers
    import peft
    import torch
    import transformers

    ensure_files()
    warm = warm_page_cache([CKPT_A, CKPT_B, LORA])
    print(f"page cache warmed in {warm:.1f} s", file=sys.stderr, flush=True)
    if args.plain_first:  # the plain side needs our dtype: ask the app's device policy for it
        from modules.adapters.devices import DevicePolicy, choose_device, choose_dtype

        policy = DevicePolicy(force_cpu=True)
        dtype = str(choose_dtype(policy, choose_device(policy))).replace("torch.", "")
        plain = run_child("plain", args, dtype=dtype)
        ours = run_child("ours", args)
    else:
        ours = run_child("ours", args)
        dtype = ours["model"]["dtype"]
        plain = run_child("plain", args, dtype=dtype)
    if ours["model"]["dtype"] != plain["model"]["dtype"]:
        raise SystemExit(f"dtype mismatch: ours {ours['model']['dtype']}, plain {plain['model']['dtype']}")
    table = rows(ours, plain)
    text = render(table)
    env = {"python": platform.python_version(), "torch": torch.__version__, "diffusers": diffusers.__version__,
           "peft": peft.__version__, "transformers": transformers.__version__, "cpus": os.cpu_count(),
           "torch_threads": ours.get("threads"), "machine": platform.machine(), "commit": git_head(),
           "dtype": dtype, "device": ours["model"]["device"],
           "order": "plain, ours" if args.plain_first else "ours, plain",
           "others_cores": {"ours": ours["others"]["side"]["cores"], "plain": plain["others"]["side"]["cores"]}}
    print(f"\nModel manager benchmark -- full-size SD1.5 layout ({CKPT_A.stat().st_size / 1e9:.2f} GB fp16 file), "
          f"{env['device']}/{dtype}, {env['cpus']} CPUs, torch {env['torch']}, diffusers {env['diffusers']}, "
          f"peft {env['peft']}; sides run in the order {env['order']}")
    print(text)
    busy = {name: side["others"]["side"]["cores"] for name, side in (("ours", ours), ("plain", plain))}
    print(f"\nCPU used by other processes while each side ran (average cores of {env['cpus']}): "
          + ", ".join(f"{k} {v:.2f}" for k, v in busy.items()))
    if max(busy.values()) > CONTENTION_WARN:
        print("WARNING: the machine was shared; timings of the busier side are inflated and the ratios unreliable. "
              "Run again on a quiet machine.")
    if "lora_profile" in ours:
        prof = ours["lora_profile"]
        print(f"\nOur LoRA apply under cProfile (model A, never had a LoRA): {prof['wall_under_profiler']:.3f} s wall")
        for label, seconds in prof["stages"].items():
            print(f"  {label:<56} {seconds:8.3f} s")
    results = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "env": env,
               "files": {p.name: p.stat().st_size for p in (CKPT_A, CKPT_B, LORA)},
               "targets": {"switch_s": TARGET_S, "lora_s": TARGET_S, "rss_growth": RSS_TARGET},
               "table": [{"measure": r[0], "ours": r[1], "plain": r[2], "unit": "s" if r[3] == "s" else "GB",
                          "ratio": (r[1] / r[2] if r[1] is not None and r[2] else None), "target": r[4]}
                         for r in table],
               "ours": ours, "plain": plain}
    out = Path(args.out)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwritten to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Benchmark our model manager against plain diffusers.")
    parser.add_argument("--reps", type=int, default=3, help="cached-switch round trips and LoRA cycles (3)")
    parser.add_argument("--switches", type=int, default=20, help="switches in the RSS loop (20)")
    parser.add_argument("--no-switch-gen", dest="switch_gen", action="store_false",
                        help="do not run a 64x64 txt2img after each switch of the RSS loop")
    parser.add_argument("--no-txt2img", dest="txt2img", action="store_false",
                        help="skip the txt2img with/without LoRA timings")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the cProfile of our LoRA apply")
    parser.add_argument("--plain-first", action="store_true",
                        help="run the plain side first (the default runs ours first); shows order effects")
    parser.add_argument("--out", default=str(RESULTS), help="results JSON (default bench/results-model-manager.json)")
    parser.add_argument("--side", choices=("ours", "plain"), help=argparse.SUPPRESS)  # child process
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.switches < 2:
        parser.error("--switches must be at least 2")
    return child(args) if args.side else parent(args)


if __name__ == "__main__":
    raise SystemExit(main())
