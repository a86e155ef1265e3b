package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCrontabLine runs the exact command of examples/scheduling/crontab,
// with cron's environment from the same file, against the example
// project, twice: the second run must find nothing new and publish the
// same model.
func TestCrontabLine(t *testing.T) {
	bin := buildDesilo(t)
	env, command := readCrontab(t, "../../examples/scheduling/crontab")
	home := copyExample(t)
	env["DESILO_HOME"] = home
	// cron's PATH, with the freshly built desilo in front of it.
	env["PATH"] = filepath.Dir(bin) + ":" + env["PATH"]
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	for run := 1; run <= 2; run++ {
		cmd := exec.Command(env["SHELL"], "-c", command)
		cmd.Env = environ
		if out, err := cmd.CombinedOutput(); err != nil {
			log, _ := os.ReadFile(filepath.Join(home, "runs", "sync.log"))
			t.Fatalf("run %d: %v\n%s\nsync.log:\n%s", run, err, out, log)
		}
		var sum struct {
			OK    bool
			Build struct{ Customers int }
		}
		b, err := os.ReadFile(filepath.Join(home, "runs", "last.json"))
		if err != nil || json.Unmarshal(b, &sum) != nil || !sum.OK || sum.Build.Customers != 22 {
			t.Fatalf("run %d: summary %s (%v)", run, b, err)
		}
	}
	log, err := os.ReadFile(filepath.Join(home, "runs", "sync.log"))
	if err != nil || !strings.Contains(string(log), `"msg":"source extracted"`) {
		t.Fatalf("sync.log has no JSON log lines: %s (%v)", log, err)
	}
}

// readCrontab returns the environment lines and the command of the one job.
func readCrontab(t *testing.T, path string) (map[string]string, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	var command string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.Contains(strings.SplitN(line, " ", 2)[0], "="):
			k, v, _ := strings.Cut(line, "=")
			env[k] = v
		default:
			fields := strings.Fields(line)
			if command != "" || len(fields) < 6 {
				t.Fatalf("crontab: want exactly one job line, got %q", line)
			}
			// The command is everything after the five time fields.
			rest := line
			for range 5 {
				rest = strings.TrimSpace(rest[strings.IndexAny(rest, " \t"):])
			}
			command = rest
		}
	}
	if command == "" || env["SHELL"] == "" {
		t.Fatal("crontab: no job line or no SHELL")
	}
	return env, command
}

func TestKubernetesCronJobManifest(t *testing.T) {
	b, err := os.ReadFile("../../examples/scheduling/cronjob.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cj struct {
		Kind string
		Spec struct {
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct{ Args []string }
							Volumes    []struct {
								Name                  string
								PersistentVolumeClaim *struct {
									ClaimName string `yaml:"claimName"`
								} `yaml:"persistentVolumeClaim"`
							}
						}
					}
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		}
	}
	if err := yaml.Unmarshal(b, &cj); err != nil {
		t.Fatal(err)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if cj.Kind != "CronJob" || cj.Spec.ConcurrencyPolicy != "Forbid" || len(pod.Containers) != 1 ||
		len(pod.Volumes) == 0 || pod.Volumes[0].PersistentVolumeClaim == nil {
		t.Fatalf("manifest: %+v", cj)
	}
	// Its arguments are a command line desilo accepts.
	args := pod.Containers[0].Args
	if args[0] != "sync" {
		t.Fatalf("args %v", args)
	}
	cmd := (&app{}).rootCmd()
	sub, rest, err := cmd.Find(args)
	if err != nil || sub.Name() != "sync" || sub.ParseFlags(rest) != nil {
		t.Fatalf("desilo does not accept %v: %v", args, err)
	}
}
