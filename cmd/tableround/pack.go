package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/tableround/tableround/roundtable"
)

const packUsage = `usage:
  tableround pack validate FILE   check a persona pack (see roundtable/packs/README.md)
  tableround pack list            list the built-in packs`

// runPack handles `tableround pack validate FILE` and `tableround pack
// list`. Exit codes: 0 ok, 1 an invalid pack, 2 usage.
func runPack(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_ = ctx // packs are local files: nothing to cancel
	switch {
	case len(args) == 1 && args[0] == "list":
		return listPacks(stdout, stderr)
	case len(args) == 2 && args[0] == "validate":
		return validatePack(args[1], stdout, stderr)
	}
	fmt.Fprintln(stderr, packUsage)
	return exitUsage
}

// validatePack prints "✓ FILE: pack NAME, …" or one "✗" line per problem,
// each naming the field.
func validatePack(path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "✗ %s: %v\n", path, err)
		return exitFailure
	}
	p, err := roundtable.ParsePack(data)
	if err != nil {
		for _, line := range packProblems(data, err) {
			fmt.Fprintf(stderr, "✗ %s: %s\n", path, line)
		}
		return exitFailure
	}
	fmt.Fprintf(stdout, "✓ %s: %s\n", path, describePack(p))
	return exitOK
}

func listPacks(stdout, stderr io.Writer) int {
	code := exitOK
	for _, name := range roundtable.BuiltinPacks() {
		p, err := roundtable.LoadPack(name)
		if err != nil { // a broken embedded pack is a bug, but say which
			fmt.Fprintf(stderr, "✗ %s: %v\n", name, err)
			code = exitFailure
			continue
		}
		fmt.Fprintf(stdout, "%s — %s\n", describePack(p), p.Title.In("en"))
	}
	return code
}

// describePack is "pack NAME, N seats, languages en, zh".
func describePack(p *roundtable.Pack) string {
	return fmt.Sprintf("pack %s, %d seats, languages %s", p.Name, len(p.Seats), strings.Join(packLanguages(p), ", "))
}

// packLanguages are the languages the pack's texts are written in.
func packLanguages(p *roundtable.Pack) []string {
	var langs []string
	add := func(ts ...roundtable.Text) {
		for _, t := range ts {
			for l, s := range t {
				if s != "" && !slices.Contains(langs, l) {
					langs = append(langs, l)
				}
			}
		}
	}
	add(p.Title, p.Moderator.Name, p.Scenario, p.ImageStyle)
	for _, r := range p.Roles {
		add(r.Label, r.Focus, r.Style)
	}
	for _, s := range p.Seats {
		add(s.Name, s.Bio)
	}
	slices.Sort(langs)
	return langs
}

// packProblems splits ParsePack's error into lines, each naming a field,
// and places JSON syntax errors by line and column.
func packProblems(data []byte, err error) []string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := position(data, syn.Offset)
		return []string{fmt.Sprintf("line %d, column %d: invalid JSON: %s", line, col, syn.Error())}
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		line, col := position(data, typ.Offset)
		return []string{fmt.Sprintf("pack %s: line %d, column %d: must be %s, not a JSON %s", typ.Field, line, col, typ.Type, typ.Value)}
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.Replace(l, "json: unknown field", "unknown field", 1))
		}
	}
	return out
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + strings.Count(string(before), "\n")
	col = int(offset) - strings.LastIndexByte(string(before), '\n')
	return line, col
}
