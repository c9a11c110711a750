package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tableround/tableround/bot/discord/discordfake"
	"github.com/tableround/tableround/internal/eventually"
	"github.com/tableround/tableround/roundtable"
)

// deployDir is the repository's deploy/ (tests run in the package
// directory).
func deployDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// metricName matches the metric names a PromQL expression can use from
// serve: its own families, the process collector's and the Go runtime's.
var metricName = regexp.MustCompile(`\b(?:tableround|process|go)_[a-z0-9_]+\b`)

// monitoringNames returns every metric name the alert rules and the
// dashboard's queries use, with where it is used.
func monitoringNames(t *testing.T, deploy string) map[string]string {
	t.Helper()
	names := map[string]string{}
	var rules ruleFile
	readYAML(t, filepath.Join(deploy, "prometheus", "tableround.rules.yml"), &rules)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			for _, n := range metricName.FindAllString(r.Expr, -1) {
				names[n] = "rule " + r.Alert
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(deploy, "grafana", "tableround.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/tableround.json does not parse: %v", err)
	}
	queries := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			queries++
			for _, n := range metricName.FindAllString(q.Expr, -1) {
				names[n] = "panel " + p.Title
			}
		}
	}
	if len(rules.Groups) == 0 || queries == 0 || len(names) < 10 {
		t.Fatalf("found %d rule groups, %d dashboard queries, %d names: the files were not read", len(rules.Groups), queries, len(names))
	}
	return names
}

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// samples parses a Prometheus text exposition into sample name → the label
// sets seen ("" for none).
func samples(body string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, labels := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
			if line[i] == '{' {
				labels = line[i+1 : strings.Index(line, "}")]
			}
		}
		out[name] = append(out[name], labels)
	}
	return out
}

// TestMonitoringNamesExistAtStartup starts serve with one platform and reads
// /metrics at once: every metric the rules and the dashboard use must be
// there, with a series for the configured platform, the provider and every
// stage, so that the first 429 is a change from zero. A burst of 429s then
// shows in the counter, in GET /alerts and in `tableround doctor --url`.
func TestMonitoringNamesExistAtStartup(t *testing.T) {
	t.Parallel()
	names := monitoringNames(t, deployDir(t))
	_, _, addr := serveDiscord(t)

	var body string
	eventually.Within(t, time.Minute, "the listener", func() bool {
		b, code := tryGet("http://" + addr + "/metrics")
		body = b
		return code == 200
	})
	got := samples(body)
	want := map[string]string{"platform": `platform="discord"`, "provider": `provider="demo"`}
	for name, where := range names {
		sets, ok := got[name]
		if !ok {
			t.Errorf("%s (%s) is not in serve's /metrics at start-up", name, where)
			continue
		}
		all := strings.Join(sets, "\n")
		for label, series := range want {
			if strings.Contains(all, label+"=") && !strings.Contains(all, series) {
				t.Errorf("%s (%s) has no %s series at start-up", name, where, series)
			}
		}
		if strings.Contains(all, "stage=") {
			for _, st := range roundtable.Stages() {
				if !strings.Contains(all, `stage="`+st+`"`) {
					t.Errorf("%s (%s) has no stage=%q series at start-up", name, where, st)
				}
			}
		}
	}
	for _, zero := range []string{
		`tableround_platform_rate_limited_total{platform="discord"} 0`,
		`tableround_platform_invalid_requests_total{platform="discord"} 0`,
		`tableround_llm_circuit_opened_total{provider="demo"} 0`,
		"tableround_ready 1",
	} {
		if !strings.Contains(body, zero) {
			t.Errorf("/metrics at start-up lacks %q", zero)
		}
	}
	if strings.Contains(body, `platform="telegram"`) {
		t.Error("/metrics has series for telegram, which is not configured")
	}

}

func tryGet(url string) (string, int) {
	resp, err := http.Get(url)
	if err != nil {
		return "", 0
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String(), resp.StatusCode
}

// TestPrometheusRuleMatchesRuleFile keeps the Kubernetes PrometheusRule and
// the plain rule file the same rules.
func TestPrometheusRuleMatchesRuleFile(t *testing.T) {
	t.Parallel()
	deploy := deployDir(t)
	var plain ruleFile
	readYAML(t, filepath.Join(deploy, "prometheus", "tableround.rules.yml"), &plain)
	var crd struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Spec       ruleFile `yaml:"spec"`
	}
	readYAML(t, filepath.Join(deploy, "k8s", "prometheusrule.yaml"), &crd)
	if crd.Kind != "PrometheusRule" || crd.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("prometheusrule.yaml is a %s %s", crd.APIVersion, crd.Kind)
	}
	if !reflect.DeepEqual(plain, crd.Spec) {
		t.Error("deploy/k8s/prometheusrule.yaml's spec.groups differ from deploy/prometheus/tableround.rules.yml")
	}
	readme, err := os.ReadFile(filepath.Join(deploy, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range plain.Groups {
		for _, r := range g.Rules {
			sev := r.Labels["severity"]
			if sev != "warning" && sev != "critical" {
				t.Errorf("%s: severity %q", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s has no summary", r.Alert)
			}
			anchor := "deploy/README.md#" + strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != anchor {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !bytes.Contains(readme, []byte("### "+r.Alert+"\n")) {
				t.Errorf("deploy/README.md has no runbook section \"### %s\"", r.Alert)
			}
		}
	}
}

// TestComposeMonitoringProfile checks that Prometheus and Grafana run only
// with the monitoring profile and that the files they mount exist.
func TestComposeMonitoringProfile(t *testing.T) {
	t.Parallel()
	deploy := deployDir(t)
	var compose struct {
		Services map[string]struct {
			Image    string   `yaml:"image"`
			Profiles []string `yaml:"profiles"`
			Volumes  []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	readYAML(t, filepath.Join(deploy, "compose.yaml"), &compose)
	for name, s := range compose.Services {
		monitoring := name == "prometheus" || name == "grafana"
		if got := slices.Contains(s.Profiles, "monitoring"); got != monitoring {
			t.Errorf("service %s: in the monitoring profile = %v, want %v", name, got, monitoring)
		}
		for _, v := range s.Volumes {
			src := strings.SplitN(v, ":", 2)[0]
			if !strings.HasPrefix(src, ".") {
				continue // a named volume
			}
			if _, err := os.Stat(filepath.Join(deploy, src)); err != nil {
				t.Errorf("service %s mounts %s: %v", name, src, err)
			}
		}
	}
	for _, name := range []string{"prometheus", "grafana"} {
		if _, ok := compose.Services[name]; !ok {
			t.Errorf("compose.yaml has no %s service", name)
		}
	}
	var ds struct {
		Datasources []struct{ UID string } `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(deploy, "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)
	raw, _ := os.ReadFile(filepath.Join(deploy, "grafana", "tableround.json"))
	if len(ds.Datasources) != 1 || !strings.Contains(string(raw), `"uid": "`+ds.Datasources[0].UID+`"`) {
		t.Errorf("the dashboard does not use the provisioned datasource %+v", ds.Datasources)
	}
}

// serveDiscord runs `tableround serve` on the demo model against a Discord
// fake with Discord's limits, until the test ends. It returns the fake, a
// guild channel and the HTTP address.
func serveDiscord(t *testing.T) (fake *discordfake.Server, channel, addr string) {
	t.Helper()
	_, env := testEnv(t)
	fake = discordfake.New(discordfake.Options{Token: "tok", Limits: discordfake.DiscordLimits()})
	t.Cleanup(fake.Close)
	guild := fake.NewID()
	channel = fake.AddChannel(discordfake.Channel{GuildID: guild, Type: 0}).ID
	addr = freeAddr(t)
	maps.Copy(env, map[string]string{"AI_PROVIDER": "demo",
		"DISCORD_TOKEN": "tok", "DISCORD_API_URL": fake.URL(), "DISCORD_GUILD_ID": guild, "HTTP_ADDR": addr})
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, envOf(env), []string{"serve"}, strings.NewReader(""), &out, &errb) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})

	return fake, channel, addr
}
