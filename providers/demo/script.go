package demo

import (
	"encoding/json"
	"fmt"
	"strings"
)

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (d data) reply() string {
	zh := d.lang == "zh"
	switch d.stage {
	case "intro", "introductions":
		if zh {
			return fmt.Sprintf("大家好，我是%s。说到「%s」，%s我希望今天我们能做出一件真正有人愿意买、愿意用的东西。", d.name, d.topic,
				d.byRole([4]string{"我最在意的是手上的功夫能不能留下来。", "我最在意的是它好不好看、值不值这个价。", "我最在意的是能不能做得出来、成本多少。", "我最在意的是画面和用户的感受。"}))
		}
		return fmt.Sprintf("Hello, I'm %s. When it comes to %q, %s I hope today we end up with something people would actually buy and use.", d.name, d.topic,
			d.byRole([4]string{"what I care about most is whether the handwork survives.", "what I care about most is whether it looks good and is worth the price.", "what I care about most is whether it can be made, and at what cost.", "what I care about most is the picture it makes and how it feels to use."}))
	case "image_stories", "story":
		k := d.keywords(4)
		if zh {
			return fmt.Sprintf("看到这张照片，我想起小时候过年，家里窗上贴满了红色的窗花。%s\n关键词: %s", d.pick([]string{"那些线条我到现在还记得。", "那种热闹的感觉很难忘。"}), js(k))
		}
		return fmt.Sprintf("This photo takes me back to a New Year when every window was covered in red paper-cuts. %s\nKeywords: %s", d.pick([]string{"I still remember how the lines caught the light.", "That feeling of a full, noisy house stays with me."}), js(k))
	case "discussion":
		k := d.keywords(2)
		if zh {
			return fmt.Sprintf("接着刚才的话说，我觉得「%s」的关键在于%s和%s。%s", d.topic, k[0], k[1],
				d.byRole([4]string{"纹样一定要有出处，不能乱用。", "要让年轻人拍照时愿意分享。", "不过成本要控制在三十元以内。", "我们可以先做一个小样试试。"}))
		}
		return fmt.Sprintf("Picking up on that: for %q I think the key is %s together with %s. %s", d.topic, k[0], k[1],
			d.byRole([4]string{"Every motif needs a real source, not decoration for its own sake.", "It should be something young people want to photograph.", "But the unit cost has to stay under five dollars.", "Let's make a small prototype first."}))
	case "keywords":
		return js(d.keywords(5))
	case "voting":
		var votes []map[string]string
		for i, k := range d.list {
			if i >= 5 {
				break
			}
			if i >= 3 && d.pick([]string{"a", "b"}) == "a" {
				continue
			}
			reason := "it came up again and again"
			if zh {
				reason = "讨论中反复出现"
			}
			votes = append(votes, map[string]string{"keyword": k, "reason": reason})
		}
		return js(votes)
	case "kj":
		names := []string{"Form", "Look", "Meaning"}
		if zh {
			names = []string{"形态", "外观", "寓意"}
		}
		groups := make([]map[string]any, 0, 3)
		for g := 0; g < 3; g++ {
			var kws []string
			for i := g; i < len(d.list); i += 3 {
				kws = append(kws, d.list[i])
			}
			if len(kws) > 0 {
				groups = append(groups, map[string]any{"name": names[g], "keywords": kws})
			}
		}
		core := "tradition you can use every day"
		if zh {
			core = "可日常使用的传统"
		}
		return js(map[string]any{"core": core, "groups": groups})
	case "role_switch":
		if zh {
			return "回头看我之前的说法，有点只站在自己的位置上了。换个角度看，这些关键词更像是给用户的承诺。我建议先做三款小样让大家投票。"
		}
		return "Looking back, I argued mostly from my own corner. From this new seat the keywords read like promises to the buyer. I suggest three quick prototypes and a vote."
	case "workshop":
		if zh {
			return d.byRole([4]string{
				"从手艺看：书签要能经得起反复夹取，镂空不能太细；对称的云纹最适合折剪，红色宣纸要加厚覆膜。",
				"作为买的人：我希望它拍照好看、价格在三十元以内，最好配一个能当贺卡的包装，送人有面子。",
				"从生产看：激光预切加手工精修，单件成本能压到八元；覆膜宣纸比纯宣纸良品率高很多。",
				"从设计看：形态做成书签，露出一截流苏；元素用对称云纹和留白；面向学生和游客；寓意是把吉祥带在身边。"})
		}
		return d.byRole([4]string{
			"From the workbench: a bookmark gets pulled in and out every day, so the lattice can't be too fine; a symmetric cloud motif folds and cuts cleanly, and the red paper must be thick and laminated.",
			"As a buyer: I want it to photograph well, stay under five dollars and come in a sleeve that doubles as a greeting card, so it works as a gift.",
			"From the factory: laser pre-cutting plus hand finishing keeps the unit cost near one dollar; laminated rice paper has a far better yield than plain paper.",
			"From design: the form is a bookmark with a tassel that peeks out; the elements are a symmetric cloud motif and generous negative space; for students and travellers; it means carrying good fortune with you."})
	case "design_cards", "card":
		if zh {
			return "名称：云纹书签\n形态：书签\n元素：对称云纹、红色镂空\n材料：覆膜宣纸\n用户：学生、游客\n寓意：吉祥随身"
		}
		return "Name: Cloud Bookmark\nForm: bookmark\nElements: symmetric cloud motif, red cut-out lattice\nMaterials: laminated rice paper\nUsers: students, travellers\nMeaning: good fortune you carry"
	case "final_design":
		if zh {
			return "最终设计：云纹剪纸书签。一张对称的红色镂空云纹，夹在书里露出流苏；用覆膜宣纸激光预切、手工精修，适合学生和游客作为节日礼物。"
		}
		return "Final design: the Cloud Paper-cut Bookmark. A symmetric red cut-out cloud motif with a tassel that peeks out of the book; laser pre-cut laminated rice paper, finished by hand; a festival gift for students and travellers."
	case "summary":
		if zh {
			return "摘要：大家围绕主题提出了对称纹样、成本控制和年轻化外观等想法。"
		}
		return "Summary: the table proposed symmetric motifs, cost control and a youthful look."
	case "vision":
		if zh {
			return "照片中是一幅红色的对称剪纸，中间是花卉，四周是云纹，背景为白色。"
		}
		return "A red symmetric paper-cut on a white background: a flower in the centre framed by cloud motifs."
	}
	if zh {
		return "（演示模型）" + strings.TrimSpace(d.topic)
	}
	return "(demo model) " + strings.TrimSpace(d.topic)
}
