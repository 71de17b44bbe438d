"""The command line's quality commands: `eval` and `card` score a generator with the MNIST digit classifier,
`classifier train` trains that classifier. `ganplay.cli` adds them to its parser; run them as

    python -m ganplay eval runs/lecture.safetensors --n 1000 [--json] [--device cuda]
    python -m ganplay card runs/lecture.safetensors --title "..." --command "python -m ganplay train ..."
    python -m ganplay classifier train --epochs 6

The judge knows grey MNIST digits only: `eval` and `card` of a generator trained on anything else (Fashion-MNIST,
toy points, your own images) or making colour images print one "error: ... no digit scores: the digit judge only
knows MNIST digits ..." line, score nothing and exit with status 2, like every other error a user can fix.
"""
from __future__ import annotations

import json
import sys

import torch

from ganplay.checkpoint import CheckpointError, load_checkpoint
from ganplay.config import ConfigError
from ganplay.cli import DEVICES, add_command, checked_device
from ganplay.data import load_dataset


def add_quality_commands(sub) -> None:
    from ganplay.classifier import PRETRAINED_PATH

    p = add_command(sub, "eval", _eval, "score a generator checkpoint with the digit classifier")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=1000, help="samples (and real digits per reference set), at most 1000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON only")
    p.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")
    p.add_argument("--classifier", help="classifier file (default: the bundled one)")
    p.add_argument("--device", choices=DEVICES, help="where to run the generator (default cpu)")

    p = sub.add_parser("classifier", help="the MNIST classifier that scores generated digits")
    clf_sub = p.add_subparsers(title="classifier commands")
    c = add_command(clf_sub, "train", _classifier_train,
                 "train it on the non-held-out t10k digits and save it with its card")
    c.add_argument("--epochs", type=int, default=6)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--threads", type=int, help="torch CPU threads")
    c.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")
    c.add_argument("--out", default=str(PRETRAINED_PATH), help=f"output file (default {PRETRAINED_PATH})")

    p = add_command(sub, "card", _card, "score a generator and write its model card (into the file and NAME.json)")
    p.add_argument("checkpoint")
    p.add_argument("--title", required=True, help="the name people see, e.g. 'DCGAN · least squares (seed 000)'")
    p.add_argument("--command", required=True, help="the `python -m ganplay train ...` command that made it")
    p.add_argument("--description", help="what the card says the model is (default: its preset's description)")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")


def _check_n(args) -> None:
    from ganplay.evaluate import MAX_N

    if not 2 <= args.n <= MAX_N:
        raise ConfigError(f"--n must be between 2 and {MAX_N} (two disjoint real sets of n come from the "
                          f"2,000-digit holdout)")


def _mnist_generator(args, device: str | torch.device = "cpu"):
    """The checkpoint to score, checked for what the digit classifier can judge: MNIST images, n in range."""
    from ganplay.evaluate import digit_judge_refusal

    _check_n(args)

    ckpt = load_checkpoint(args.checkpoint, device)
    refusal = digit_judge_refusal(ckpt.config)
    if refusal:
        raise CheckpointError(f"{args.checkpoint}: {refusal}")
    return ckpt


def _eval(args) -> int:
    from ganplay.classifier import load_classifier
    from ganplay.evaluate import evaluate, format_report

    ckpt = _mnist_generator(args, checked_device(args.device) or "cpu")
    classifier, _ = load_classifier(args.classifier)
    holdout = load_dataset("mnist", args.data, part="holdout")
    report = evaluate(ckpt, n=args.n, seed=args.seed, classifier=classifier, holdout=holdout)
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "preset": ckpt.config.name, **report.to_dict()}))
    else:
        steps = ckpt.record.get("steps", "?")
        print(format_report(report, title=f"{args.checkpoint}  ({ckpt.config.name}, {steps} steps)"))
    return 0


def _card(args) -> int:
    from ganplay.cards import make_card, write_card

    _check_n(args)
    card = make_card(args.checkpoint, args.title, args.command, n=args.n, data=args.data)
    if args.description:
        card["description"] = args.description
    path, sidecar = write_card(args.checkpoint, card)
    e = card["eval"]
    if "skipped" in e:
        print(f"{path}: card without scores ({e['skipped']}); card in {sidecar}")
    else:
        print(f"{path}: {e['confident_fraction']:.1%} confident, {e['classes_present']}/10 classes, "
              f"recognizable: {'yes' if e['recognizable'] else 'no'}; card in {sidecar}")
    return 0


def _classifier_train(args) -> int:
    from ganplay.classifier import MIN_ACCURACY, save_classifier, train_classifier

    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    if not 1 <= args.epochs <= 100:
        raise ConfigError("--epochs must be between 1 and 100")
    train = load_dataset("mnist", args.data, part="train")
    holdout = load_dataset("mnist", args.data, part="holdout")
    print(f"training on {train.describe()}; scoring on {len(holdout):,} held-out digits", file=sys.stderr)
    model, card = train_classifier(
        train, holdout, epochs=args.epochs, seed=args.seed,
        progress=lambda e, total, acc: print(f"epoch {e}/{total}: held-out accuracy {acc:.2%}", file=sys.stderr))
    card["command"] = f"python -m ganplay classifier train --epochs {args.epochs} --seed {args.seed}"
    out = save_classifier(args.out, model, card)
    print(f"held-out accuracy {card['holdout_accuracy']:.2%} after {card['training_seconds']:.0f} s; "
          f"saved {out} ({out.stat().st_size / 2**20:.2f} MB)")
    if card["holdout_accuracy"] < MIN_ACCURACY:
        print(f"warning: below the {MIN_ACCURACY:.0%} the evaluation needs; train longer", file=sys.stderr)
        return 1
    return 0
