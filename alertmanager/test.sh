#!/usr/bin/env bash
# Check alertmanager.yml: amtool check-config, one routing case per county,
# city and the default receiver, template rendering, and a live run on
# Debian's Alertmanager 0.25 (routing, inhibition and the email text).
# Exits non-zero when any check fails; the last line is the summary.
set -u

here=$(cd "$(dirname "$0")" && pwd)
amtool=${AMTOOL:-$here/../.tools/bin/amtool}
alertmanager=${ALERTMANAGER:-/usr/bin/prometheus-alertmanager}
config=$here/alertmanager.yml

if [[ ! -x $amtool ]]; then
	echo "alertmanager: $amtool not found; run 'make deps' to install it" >&2
	exit 2
fi

passed=0
failed=0

check() {
	local name=$1 log
	shift
	if log=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok    $name"
	else
		failed=$((failed + 1))
		echo "FAIL  $name"
		printf '%s\n' "$log" | sed 's/^/      /'
	fi
}

check "check-config" "$amtool" check-config "$config"

# route EXPECTED_RECEIVER LABEL=VALUE...
route() {
	local want=$1
	shift
	check "route to $want: $*" \
		"$amtool" config routes test --config.file="$config" --verify.receivers="$want" "$@"
}

route pizhou-coal-team mine_id=320382000101 violation=restricted_area severity=critical city=徐州市 county=邳州市
route pizhou-coal-team mine_id=320382000202 violation=secret_operation severity=critical city=徐州市 county=邳州市
route peixian-coal-team mine_id=320322000101 violation=data_silent severity=warning city=徐州市 county=沛县
# A county of Xuzhou without its own team goes to the city.
route xuzhou-city mine_id=320324000101 violation=person_sos severity=critical city=徐州市 county=睢宁县
route sihong-coal-team mine_id=321324000101 violation=over_capacity severity=critical city=宿迁市 county=泗洪县
route suqian-city mine_id=321322000101 violation=overcrowding_mine severity=critical city=宿迁市 county=沭阳县
# Unknown city, and a mine missing from the registry (no city, no county).
route province-duty mine_id=320000000101 violation=data_silent severity=warning city=南京市 county=江宁区
route province-duty mine_id=320382000303 violation=person_sos severity=critical
# A county name alone, under the wrong city, does not route to that county.
route province-duty mine_id=321324000102 violation=person_sos severity=critical city=南京市 county=邳州市

for name in title text html; do
	check "template minewatch.$name renders" \
		"$amtool" template render --template.glob="$here/templates/*.tmpl" \
		--template.text="{{ template \"minewatch.$name\" . }}"
done

if [[ -x $alertmanager ]]; then
	check "live run on $("$alertmanager" --version 2>&1 | head -n1)" \
		python3 "$here/live_test.py" "$alertmanager"
else
	failed=$((failed + 1))
	echo "FAIL  live run: $alertmanager not found; install Debian's prometheus-alertmanager"
fi

echo "alertmanager: $passed passed, $failed failed"
((failed == 0))
