"""A command trainer for tests/cli/cases/pseudo.case: predicts 0.5 everywhere and records what the
pseudo protocol gave its fold (COMPE_PSEUDO_*) in pseudo<fold>.txt in the current folder."""
import csv
import os

e = os.environ
out = e["COMPE_OUTPUT_DIR"]
target = e["COMPE_TARGET_COLUMNS"]
for name, src in (("oof.csv", "COMPE_VALID_CSV"), ("test.csv", "COMPE_TEST_CSV")):
    ids = [r[e["COMPE_ID_COLUMN"]] for r in csv.DictReader(open(e[src]))]
    with open(os.path.join(out, name), "w") as f:
        f.write(f"{e['COMPE_ID_COLUMN']},{target}\n" + "".join(f"{i},0.5\n" for i in ids))
rows = list(csv.DictReader(open(e["COMPE_PSEUDO_CSV"])))
test_ids = {r[e["COMPE_ID_COLUMN"]] for r in csv.DictReader(open(e["COMPE_TEST_CSV"]))}
with open(f"pseudo{e['COMPE_FOLD']}.txt", "w") as f:
    f.write(f"rows={len(rows)} weight={e['COMPE_PSEUDO_WEIGHT']} strategy={e['COMPE_PSEUDO_STRATEGY']} "
            f"columns={','.join(rows[0])} test_ids={all(r[e['COMPE_ID_COLUMN']] in test_ids for r in rows)}\n")
