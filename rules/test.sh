#!/usr/bin/env bash
# Check every rule file in rules/ with `vmalert -dryRun` and run every unit
# test file in rules/tests/ with `vmalert-tool unittest`. New rule and test
# files are picked up by their names, with no list to keep. Exits non-zero
# when any check fails; the last line is the summary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../.tools/bin"
vmalert=${VMALERT:-$tools/vmalert}
vmalert_tool=${VMALERT_TOOL:-$tools/vmalert-tool}

for bin in "$vmalert" "$vmalert_tool"; do
	if [[ ! -x $bin ]]; then
		echo "rules: $bin not found; run 'make deps' to install it" >&2
		exit 2
	fi
done

passed=0
failed=0
failures=()

check() {
	local name=$1 log
	shift
	if log=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok    $name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "FAIL  $name"
		printf '%s\n' "$log" | sed 's/^/      /'
	fi
}

shopt -s nullglob
rule_files=("$here"/*.yml "$here"/*.yaml)
test_files=("$here"/tests/*.yml "$here"/tests/*.yaml)

if ((${#rule_files[@]} == 0)); then
	echo "rules: no rule files in $here" >&2
	exit 1
fi

for f in "${rule_files[@]}"; do
	check "dry run ${f#"$here"/}" "$vmalert" -dryRun -loggerLevel=ERROR -rule="$f"
done

for f in "${test_files[@]}"; do
	check "unit test ${f#"$here"/}" "$vmalert_tool" unittest --files="$f"
done

if ((failed > 0)); then
	printf 'failed: %s\n' "${failures[@]}"
fi
echo "rules: $passed passed, $failed failed"
((failed == 0))
