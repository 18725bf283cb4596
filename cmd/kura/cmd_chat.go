package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kura-rag/kura/internal/api"
	"github.com/kura-rag/kura/internal/app"
)

type chatOptions struct {
	embedder       embedderOptions
	retrieval      retrievalOptions
	answer         answerOptions
	JSON           bool
	ConversationID string
	SessionID      string
	UserID         string
}

func newChatCommand(g *globalOptions) *cobra.Command {
	var o chatOptions
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat with a collection in the terminal, follow-up questions included",
		Long: `An interactive chat over a collection: type a question, get a streamed answer
with its sources, then ask a follow-up ("それはいつから？"). A follow-up is
rewritten into a standalone question for retrieval, shown as
"(searching for: …)". The conversation is kept in the data directory's
history, where the web chat of kura serve and kura traces see it too.

Commands: /sources shows the last answer's sources in full, /history the
conversation so far, /reset starts a new conversation, /help lists them;
Ctrl-D (end of input) leaves. Questions may also come from a pipe, one per
line; with --json each answer is printed as one JSON object per line (the
kura ask --json shape, with "rewritten_question" for a rewritten follow-up).

The retrieval and language model flags are kura ask's.`,
		Example: `  kura chat
  kura chat --llm ollama --llm-model qwen2.5:7b
  printf 'GitOpsとは？\nそれを支えるツールは？\n' | kura chat --json`,
		Args: args(cobra.NoArgs, "no arguments (questions come from the terminal or stdin)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runChat(cmd, g, &o)
		},
	}
	f := cmd.Flags()
	o.embedder.register(f)
	o.retrieval.register(f, app.DefaultK)
	o.answer.register(f)
	f.BoolVar(&o.JSON, "json", false, "print each answer as one JSON object per line instead of streaming it")
	f.StringVar(&o.ConversationID, "conversation-id", "", "continue this conversation (an id from an earlier chat or the web chat)")
	f.StringVar(&o.SessionID, "session-id", "", "session id of the traces (default: one per conversation)")
	f.StringVar(&o.UserID, "user-id", "", "user the conversation belongs to (default \"default\", as kura serve without API keys)")
	g.registerTraceFlag(f)
	return cmd
}

// chat is one chat session in the terminal.
type chat struct {
	a        *app.App
	o        *chatOptions
	req      api.AskRequest
	out      io.Writer
	errw     io.Writer
	tty      bool
	convID   string
	session  string
	sources  []api.Source
	lastText string
}

func runChat(cmd *cobra.Command, g *globalOptions, o *chatOptions) error {
	a, req, err := askSetup(cmd, g, &o.embedder, &o.retrieval, &o.answer)
	if err != nil {
		return err
	}
	defer a.Close()
	in := cmd.InOrStdin()
	c := &chat{a: a, o: o, req: req, out: cmd.OutOrStdout(), errw: cmd.ErrOrStderr(), convID: o.ConversationID, session: o.SessionID}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		c.tty = true
	}
	ctx := cmd.Context()
	if c.convID != "" {
		// Check it now, not at the first question.
		if _, err := a.GetConversation(ctx, o.UserID, c.convID); err != nil {
			return err
		}
	}
	if c.session == "" {
		c.session = newSessionID()
	}
	if c.tty {
		fmt.Fprintf(c.out, "kura chat on collection %s (%s). /help for commands, Ctrl-D to leave.\n", a.DefaultCollection(), answererName(o.answer))
	}

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for {
		if c.tty {
			fmt.Fprint(c.out, "\n> ")
		}
		if !sc.Scan() {
			break
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "/") {
			leave, err := c.command(ctx, line)
			if err != nil {
				return err
			}
			if leave {
				return nil
			}
			continue
		}
		if err := c.ask(ctx, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the questions: %w", err)
	}
	if c.tty {
		fmt.Fprintln(c.out)
	}
	return ctx.Err()
}

func answererName(o answerOptions) string {
	if o.Model != "" {
		return o.LLM + " " + o.Model
	}
	return o.LLM
}

// ask answers one question of the conversation. A failure that would
// fail every question (a rejected key, an invalid option) ends the chat;
// others are shown and the chat goes on.
func (c *chat) ask(ctx context.Context, question string) error {
	in := app.AskInput{AskRequest: c.req, User: c.o.UserID, SessionID: c.session}
	in.Question, in.ConversationID = question, c.convID
	var ans api.Answer
	var err error
	if c.o.JSON {
		ans, err = c.a.AskWith(ctx, in, nil)
		if err == nil {
			err = newJSONEncoder(c.out).Encode(ans)
		}
	} else {
		view := &answerView{out: c.out, errw: c.errw, showRewritten: true}
		ans, err = c.a.AskWith(ctx, in, view.event)
		view.endText()
		if err == nil {
			view.finish(ans)
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || app.StopsBatch(err) || exitCode(err) == exitUsage {
			return err
		}
		fmt.Fprintf(c.errw, "kura: %s\n", errorText(err))
		return nil
	}
	if ans.ConversationID != "" {
		c.convID = ans.ConversationID
	}
	c.sources, c.lastText = ans.Sources, ans.Answer
	return nil
}

const chatHelp = `/sources   the last answer's sources, with their text
/history   the conversation so far
/reset     start a new conversation
/help      this list
Ctrl-D     leave (also /exit)`

// command runs a /command; leave is true for /exit.
func (c *chat) command(ctx context.Context, line string) (leave bool, err error) {
	name, _, _ := strings.Cut(line, " ")
	switch name {
	case "/help", "/?":
		fmt.Fprintln(c.out, chatHelp)
	case "/exit", "/quit":
		return true, nil
	case "/reset", "/new":
		c.convID, c.sources, c.lastText = "", nil, ""
		if c.o.SessionID == "" {
			c.session = newSessionID()
		}
		fmt.Fprintln(c.out, "(a new conversation)")
	case "/sources":
		if len(c.sources) == 0 {
			fmt.Fprintln(c.out, "(no sources yet: ask a question first)")
			return false, nil
		}
		for _, s := range c.sources {
			fmt.Fprintf(c.out, "[%d] %s\n", s.N, sourceLine(s.Hit))
			if text, _ := s.Entity["text"].(string); text != "" {
				fmt.Fprintf(c.out, "    %s\n", strings.ReplaceAll(strings.TrimSpace(terminalText(text)), "\n", "\n    "))
			}
		}
	case "/history":
		if c.convID == "" {
			fmt.Fprintln(c.out, "(nothing asked yet in this conversation)")
			return false, nil
		}
		conv, err := c.a.GetConversation(ctx, c.o.UserID, c.convID)
		if err != nil {
			fmt.Fprintf(c.errw, "kura: %s\n", errorText(err))
			return false, nil
		}
		fmt.Fprintf(c.out, "conversation %s: %s\n", conv.ID, oneLine(conv.Title))
		for i, t := range conv.Turns {
			fmt.Fprintf(c.out, "\n%d. Q: %s\n", i+1, oneLine(t.Question))
			if t.RewrittenQuestion != "" {
				fmt.Fprintf(c.out, "   (searched for: %s)\n", oneLine(t.RewrittenQuestion))
			}
			fmt.Fprintf(c.out, "   A: %s\n", strings.ReplaceAll(terminalText(short(t.Answer, 300)), "\n", "\n      "))
		}
	default:
		fmt.Fprintf(c.out, "unknown command %s\n%s\n", name, chatHelp)
	}
	return false, nil
}

// terminalText drops the control characters of untrusted text (escape
// sequences) except newlines and tabs.
func terminalText(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
}

// short cuts s to n characters.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// newSessionID is the session of one terminal conversation's traces.
func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "chat_" + hex.EncodeToString(b[:])
}
