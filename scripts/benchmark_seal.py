"""How long a seal takes, and how a rendering process's memory grows.

    .venv/bin/python scripts/benchmark_seal.py [--seals 30] [--renders 500] [--render-seals 100]

Each figure is printed twice, from one run: "per call" rebuilds what the app
used to rebuild on every call (pyHanko's SimpleSigner, which parses the RSA
key again on every signature; a WeasyPrint FontConfiguration per render),
"per process" is the app as it is. Memory is measured in a fresh process per
mode, since growth is per process.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

from benchlib import ROOT, setup_throwaway_django


def seal_timings(seals, per_call):
    from django.core.management import call_command
    from pyhanko.sign import signers

    from agreements import seal
    from agreements.pdf import _write_pdf

    call_command("create_seal_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pdf = _write_pdf("<p>A page to seal.</p>")
    if per_call:
        built = seal._build_signer()
        seal._load_signer = lambda: signers.SimpleSigner(
            signing_cert=built.signing_cert,
            signing_key=built.signing_key,
            cert_registry=built.cert_registry,
        )
    timings = []
    for _ in range(seals):
        start = time.perf_counter()
        sealed = seal.seal_pdf(pdf, reason="benchmark")
        timings.append((time.perf_counter() - start) * 1000)
    if not seal.validate_sealed_pdf(sealed).ok:
        raise SystemExit("The sealed PDF does not validate.")
    return statistics.median(timings), max(timings)


def rss_growth(renders, per_call, with_seal):
    """RSS (MiB) after a warm-up render and after ``renders`` more."""
    from weasyprint.text.fonts import FontConfiguration

    from agreements import demo, pdf, seal
    from tests.helpers import make_agreement, make_persona, make_program

    if per_call:
        pdf._fonts = FontConfiguration
    if with_seal:
        from django.core.management import call_command

        call_command("create_seal_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin, mentor = make_persona("program_admin"), make_persona("mentor")
    agreement = make_agreement(make_program("Bench", admin), mentor, make_persona("mentee"), admin)
    demo.write_all(agreement, by=mentor)
    html = pdf.draft_html(agreement)

    def once():
        document = pdf._write_pdf(html)
        if with_seal:
            seal.seal_pdf(document, reason="benchmark")

    once()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _ in range(renders):
        once()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return before, after


def child(args):
    setup_throwaway_django()
    if args.child == "seal":
        result = seal_timings(args.seals, args.per_call)
    else:
        result = rss_growth(args.renders, args.per_call, args.child == "render+seal")
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seals", type=int, default=30)
    parser.add_argument("--renders", type=int, default=500, help="draft renders")
    parser.add_argument(
        "--render-seals", type=int, help="renders each sealed (default: a fifth of --renders)"
    )
    parser.add_argument("--child", choices=["seal", "render", "render+seal"])
    parser.add_argument("--per-call", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args)

    def run(kind, per_call, **counts):
        command = [sys.executable, __file__, "--child", kind]
        command += [f"--{name}={value}" for name, value in counts.items()]
        command += ["--per-call"] if per_call else []
        # Our own script, with our own options.
        out = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)  # noqa: S603
        return json.loads(out.stdout.strip().splitlines()[-1])

    print(f"Sealing a one-page PDF, {args.seals} times:")
    for per_call in (True, False):
        median, slowest = run("seal", per_call, seals=args.seals)
        mode = "per call" if per_call else "per process"
        print(f"  signer built {mode:<12} median {median:6.1f} ms   slowest {slowest:6.1f} ms")
    render_seals = args.renders // 5 if args.render_seals is None else args.render_seals
    for kind, renders in (("render", args.renders), ("render+seal", render_seals)):
        print(f"Peak RSS over {renders} {kind}s of a draft, after one warm-up:")
        for per_call in (True, False):
            before, after = run(kind, per_call, renders=renders)
            mode = "fonts per call" if per_call else "fonts per process"
            growth = (after - before) / before * 100
            print(f"  {mode:<18} {before:6.1f} → {after:6.1f} MiB   {growth:+5.1f} %")


if __name__ == "__main__":
    main()
