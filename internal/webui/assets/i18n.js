// i18n.js: the UI's words in Japanese and English, chosen by the
// browser's language (?lang=en or ?lang=ja overrides it).

const strings = {
  en: {
    title: 'kura', newChat: 'New chat', conversations: 'Conversations', noConversations: 'No conversations yet',
    rename: 'Rename', delete: 'Delete', confirmDelete: 'Delete this conversation?', renamePrompt: 'New title',
    settings: 'Settings', retrieval: 'Retrieval', generation: 'Answer', collection: 'Collection',
    searchType: 'Search type', searchDefault: 'Collection default', similarity: 'Similarity', mmr: 'MMR (diverse)', scoreThreshold: 'Score threshold',
    bm25: 'BM25 (full text)', hybrid: 'Hybrid', k: 'Return k', fetchK: 'Fetch k', threshold: 'Score threshold', lambda: 'Lambda (MMR)',
    llm: 'LLM', model: 'Model', modelDefault: 'provider default', maxTokens: 'Max tokens', temperature: 'Temperature', topK: 'Top k', topP: 'Top p',
    frequencyPenalty: 'Frequency penalty', presencePenalty: 'Presence penalty', streaming: 'Stream the answer',
    feedbackKind: 'Feedback', thumbs: 'Thumbs', faces: 'Faces',
    placeholder: 'Ask a question (Enter to send, Shift+Enter for a new line)', send: 'Send', stop: 'Stop',
    sources: 'Sources', noSources: 'No sources', copy: 'Copy', copied: 'Copied',
    extractive: 'Extracted from the sources, not generated', rewritten: 'Searched as',
    commentPlaceholder: 'Comment (optional)', submitFeedback: 'Send feedback', thanks: 'Thank you for your feedback',
    feedbackFailed: 'Feedback could not be sent', stopped: 'Stopped', error: 'Error',
    apiKeyTitle: 'API key', apiKeyText: 'This server needs an API key. It is kept only for this browser session.',
    apiKeySave: 'Continue', apiKeyWrong: 'That key was not accepted.',
    upload: 'Upload documents', dropHere: 'Drop files here to add them to the collection', uploading: 'Uploading',
    ingesting: 'Ingesting', uploadDone: 'Done', chunks: 'chunks', filesDone: 'files', problems: 'Problems',
    close: 'Close', chunk: 'chunk', cited: 'Cited passage', traces: 'Traces', chat: 'Chat',
    time: 'Time', question: 'Question', latency: 'First token / total', tokens: 'Tokens in / out', feedback: 'Feedback',
    noTraces: 'No answers recorded yet', notFound: 'Not found', welcome: 'Ask anything about your documents.',
    faceLabels: ['Very good', 'Good', 'Neutral', 'Bad', 'Very bad'], thumbUp: 'Good', thumbDown: 'Bad',
  },
  ja: {
    title: 'kura', newChat: '新しいチャット', conversations: '会話', noConversations: 'まだ会話はありません',
    rename: '名前を変更', delete: '削除', confirmDelete: 'この会話を削除しますか？', renamePrompt: '新しいタイトル',
    settings: '設定', retrieval: '検索', generation: '回答', collection: 'コレクション',
    searchType: '検索タイプ', searchDefault: 'コレクションの既定', similarity: '類似度', mmr: 'MMR（多様性）', scoreThreshold: 'スコアしきい値',
    bm25: 'BM25（全文）', hybrid: 'ハイブリッド', k: '取得件数 k', fetchK: 'Fetch k', threshold: 'スコアしきい値', lambda: 'Lambda（MMR）',
    llm: 'LLM', model: 'モデル', modelDefault: 'プロバイダーの既定', maxTokens: '最大トークン数', temperature: 'Temperature', topK: 'Top k', topP: 'Top p',
    frequencyPenalty: 'Frequency penalty', presencePenalty: 'Presence penalty', streaming: '回答をストリーミング',
    feedbackKind: 'フィードバック', thumbs: 'サムズ', faces: 'フェイス',
    placeholder: '質問を入力（Enter で送信、Shift+Enter で改行）', send: '送信', stop: '停止',
    sources: '出典', noSources: '出典なし', copy: 'コピー', copied: 'コピーしました',
    extractive: '出典からの抜粋です（生成ではありません）', rewritten: '検索した質問',
    commentPlaceholder: 'コメント（任意）', submitFeedback: 'フィードバックを送信', thanks: 'フィードバックありがとうございます',
    feedbackFailed: 'フィードバックを送信できませんでした', stopped: '停止しました', error: 'エラー',
    apiKeyTitle: 'API キー', apiKeyText: 'このサーバーには API キーが必要です。キーはこのブラウザのセッション中だけ保存されます。',
    apiKeySave: '続ける', apiKeyWrong: 'このキーは受け付けられませんでした。',
    upload: '文書をアップロード', dropHere: 'ここにファイルをドロップするとコレクションに追加されます', uploading: 'アップロード中',
    ingesting: '取り込み中', uploadDone: '完了', chunks: 'チャンク', filesDone: 'ファイル', problems: '問題',
    close: '閉じる', chunk: 'チャンク', cited: '引用箇所', traces: 'トレース', chat: 'チャット',
    time: '日時', question: '質問', latency: '最初のトークン / 合計', tokens: 'トークン 入力 / 出力', feedback: 'フィードバック',
    noTraces: 'まだ回答の記録はありません', notFound: '該当なし', welcome: '文書について何でも質問してください。',
    faceLabels: ['とても良い', '良い', 'ふつう', '悪い', 'とても悪い'], thumbUp: '良い', thumbDown: '悪い',
  },
};

function pick() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q && strings[q]) return q;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of langs) {
    const base = String(l).toLowerCase().split('-')[0];
    if (strings[base]) return base;
  }
  return 'en';
}

export const lang = pick();
document.documentElement.lang = lang;

// t returns the word for key in the UI's language.
export function t(key) {
  return strings[lang][key] ?? strings.en[key] ?? key;
}
