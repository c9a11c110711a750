package export

import (
	"encoding/base64"
	"html/template"
	"io"
	"sync"
)

// renderHTML writes one self-contained page: inline CSS, images as data:
// URIs (only sniffed PNG, JPEG, GIF or WebP), no scripts, no external
// requests. html/template escapes every piece of text.
func renderHTML(w io.Writer, d *doc) error {
	return page().Execute(w, d)
}

// page is parsed on first use, not at start-up (every command links it).
var page = sync.OnceValue(func() *template.Template { return pageTemplate() })

func pageTemplate() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"dataURI": func(img *image) template.URL {
			if img == nil || img.Data == nil || img.MIME == "" {
				return ""
			}
			// Safe: MIME is one of imageTypes and the payload is base64.
			return template.URL("data:" + img.MIME + ";base64," + base64.StdEncoding.EncodeToString(img.Data))
		},
		"topic":  func(d *doc) string { return orDefault(d.Session.Topic, "Roundtable") },
		"banner": func() string { return demoBanner },
		"inc":    func(i int) int { return i + 1 },
		// Safe: the SVG is drawn by svg.go, which escapes every label and
		// writes no scripts, links or external references.
		"svg": func(s string) template.HTML { return template.HTML(s) },
	}).Parse(`<!DOCTYPE html>
<html lang="{{with .Session.Language}}{{.}}{{else}}en{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{{topic .}} — TableRound</title>
<style>
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI","Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.8rem;margin-bottom:.5rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.6rem .9rem;border-radius:6px}
.facts{list-style:none;padding:0;color:#555}.facts b{color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
.speech,.card,.interjection{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:.6rem .9rem;margin:.8rem 0}
.card{border-left:4px solid #c0392b}.interjection{border-left:4px solid #2980b9}
.who{font-weight:600}.meta{color:#777;font-size:.9em;margin-left:.4rem}
.text{white-space:pre-wrap;margin-top:.3rem}.failure,.note{color:#777;font-style:italic}
pre{white-space:pre-wrap;background:#f0f0f0;padding:.7rem;border-radius:6px}
img{max-width:100%;border-radius:6px}
.picture svg{max-width:100%;height:auto}
</style>
</head>
<body>
<h1>{{topic .}}</h1>
{{if .Demo}}<p class="banner">⚠️ {{banner}}</p>{{end}}
<ul class="facts">{{range .Facts}}<li><b>{{.Label}}:</b> {{.Value}}</li>{{end}}</ul>
{{with .SeatList}}<h2>The table</h2>
<table><tr><th>Seat</th><th>Name</th><th>Role</th><th>Model</th></tr>
{{range $i, $s := .}}<tr><td>{{inc $i}}</td><td>{{$s.Emoji}} {{$s.Name}}</td><td>{{$s.Role}}</td><td>{{$s.Model}}</td></tr>
{{end}}</table>{{end}}
{{range .Stages}}<section>
<h2>{{.Title}}</h2>
{{range .Blocks}}{{template "block" .}}{{end}}</section>
{{end}}<h2>Usage</h2>
<ul class="facts">{{range .UsageItems}}<li><b>{{.Label}}:</b> {{.Value}}</li>{{end}}{{with .End}}<li><b>Ended:</b> {{.Status}}</li>{{end}}</ul>
</body>
</html>
{{define "block"}}{{if or (eq .Kind "speech") (eq .Kind "card") (eq .Kind "interjection")}}<div class="{{.Kind}}"><span class="who">{{.Who}}</span>{{with .Meta}}<span class="meta">{{.}}</span>{{end}}<div class="text">{{.Text}}</div></div>
{{else if eq .Kind "failure"}}<p class="failure"><b>{{.Who}}</b> — {{.Text}}</p>
{{else if eq .Kind "prompt"}}<h3>{{.Heading}}</h3><pre>{{.Text}}</pre>
{{else if eq .Kind "people"}}<p><b>{{.Heading}}</b> — {{.Text}}</p>
{{else if eq .Kind "image"}}<figure>{{with .Heading}}<h3>{{.}}</h3>{{end}}{{with dataURI .Image}}<img src="{{.}}" alt="image">{{else}}<p class="note">(image {{.Image.Ref.Blob}} is no longer stored)</p>{{end}}{{with .Text}}<figcaption class="text">{{.}}</figcaption>{{end}}</figure>
{{else if .Items}}<h3>{{.Heading}}</h3>{{with .Picture}}<figure class="picture">{{svg .}}</figure>{{end}}{{with .Text}}<p>{{.}}</p>{{end}}<ul>{{range .Items}}<li><b>{{.Label}}:</b> {{.Value}}</li>{{end}}</ul>
{{else}}<p class="note">{{.Text}}</p>
{{end}}{{end}}`))
}
