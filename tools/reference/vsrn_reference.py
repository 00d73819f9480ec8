#!/usr/bin/python3
"""The original VSRN (KunpengLi1994/VSRN, commit 777ae74), ported only as far as PyTorch 1.13 on CPU needs.

Follows, module by module and with the original attribute (= state-dict) names:
  model.py                 l2norm, EncoderImagePrecompAttn, EncoderText, cosine_sim, ContrastiveLoss, VSRN
  GCN_lib/Rs_GCN.py        Rs_GCN
  models/EncoderRNN.py     EncoderRNN
  models/Attention.py      Attention
  models/DecoderRNN.py     DecoderRNN (teacher-forced 'train' mode and greedy 'inference' mode, beam search left out)
  models/S2VTAttModel.py   S2VTAttModel
  misc/utils.py            LanguageModelCriterion
  data.py                  PrecompDataset.__getitem__ caption targets (caption_label, caption_mask), collate_fn
  train.py                 the option defaults (default_opt), adjust_learning_rate

What the port changed, and nothing else: no .cuda()/cudnn/torch.cuda.synchronize; Variable dropped;
nn.init.constant -> constant_, NLLLoss(reduce=False) -> reduction='none', F.tanh -> torch.tanh, bool(bidirectional)
for nn.GRU (opt.bidirectional is the int 0), view -> reshape where 1.13 keeps a permuted layout,
clip_grad_norm -> clip_grad_norm_, loss.data[0] -> item(); the tensorboard/logging calls removed; the unused
EncoderImageFull / EncoderImagePrecomp / order measure / reward criterion left out; `inference` builds the <start>
tokens on the CPU.

Kept on purpose (they are the original's behaviour; see the VSRN notes in the report of the vsrn-ref branch):
* `l2norm` sums over dim=1 with no epsilon: on the (B, 36, D) region tensors it normalises every channel across
  the regions. Applied before the GCN unless data_name == 'f30k_precomp', and after the GCN always.
* `bn` exists only for data_name == 'f30k_precomp'.
* The caption branch reads the l2-normalised GCN output (the same tensor the image GRU reads), so the caption loss
  reaches fc and the four Rs_GCN blocks, not img_rnn/bn.
* The optimizer's parameter list holds every captioning parameter twice (decoder, encoder, then caption_model
  again): clip_grad_norm_ counts them twice in the norm and scales their gradients twice, and Adam steps them
  twice per iteration (its step counter advances by 2). `VSRN.params` keeps that list.
* VSRN.train_start/val_start switch only img_enc and txt_enc: the captioning modules stay in train mode for ever
  (their dropouts are always active, also in 'inference').
* EncoderRNN/DecoderRNN GRUs are built with dropout=rnn_dropout_p (0.5) and one layer: PyTorch ignores it (warning).

Usage as a library (tools/reference/vsrn_fixtures.py, train_reference.py --model vsrn, checkpoint_fixtures.py,
benchmarks/reference/vsrn_reference.py):
    opt = default_opt(vocab_size=V, data_name='f30k_precomp', img_dim=2048, embed_size=2048)
    model = VSRN(opt)
    model.train_emb(images, captions, lengths, ids, caption_labels, caption_masks)
"""
import argparse
import collections
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# nn.GRU(..., num_layers=1, dropout=0.5) warns that the dropout does nothing; the original builds them like that.
warnings.filterwarnings("ignore", message="dropout option adds dropout after all but last recurrent layer")
# torch.optim warns about the duplicated captioning parameters; the original's list has them (see VSRN.params).
warnings.filterwarnings("ignore", message="optimizer contains a parameter group with duplicate parameters")


# ---------------------------------------------------------------------------------------------------------------
# model.py
# ---------------------------------------------------------------------------------------------------------------

def l2norm(X):
    """L2-normalize columns of X (the original: over dim=1, no epsilon)."""
    norm = torch.pow(X, 2).sum(dim=1, keepdim=True).sqrt()
    X = torch.div(X, norm)
    return X


class Rs_GCN(nn.Module):
    """GCN_lib/Rs_GCN.py; module registration order g, W (Conv1d, BatchNorm1d), theta, phi as in the original."""

    def __init__(self, in_channels, inter_channels, bn_layer=True):
        super(Rs_GCN, self).__init__()
        self.in_channels = in_channels
        self.inter_channels = inter_channels
        if self.inter_channels is None:
            self.inter_channels = in_channels // 2
            if self.inter_channels == 0:
                self.inter_channels = 1
        conv_nd = nn.Conv1d
        bn = nn.BatchNorm1d
        self.g = conv_nd(in_channels=self.in_channels, out_channels=self.inter_channels,
                         kernel_size=1, stride=1, padding=0)
        if bn_layer:
            self.W = nn.Sequential(
                conv_nd(in_channels=self.inter_channels, out_channels=self.in_channels,
                        kernel_size=1, stride=1, padding=0),
                bn(self.in_channels)
            )
            nn.init.constant_(self.W[1].weight, 0)
            nn.init.constant_(self.W[1].bias, 0)
        else:
            self.W = conv_nd(in_channels=self.inter_channels, out_channels=self.in_channels,
                             kernel_size=1, stride=1, padding=0)
            nn.init.constant_(self.W.weight, 0)
            nn.init.constant_(self.W.bias, 0)
        self.theta = conv_nd(in_channels=self.in_channels, out_channels=self.inter_channels,
                             kernel_size=1, stride=1, padding=0)
        self.phi = conv_nd(in_channels=self.in_channels, out_channels=self.inter_channels,
                           kernel_size=1, stride=1, padding=0)

    def forward(self, v):
        """v: (B, D, N) -> (B, D, N)."""
        batch_size = v.size(0)
        g_v = self.g(v).view(batch_size, self.inter_channels, -1)
        g_v = g_v.permute(0, 2, 1)
        theta_v = self.theta(v).view(batch_size, self.inter_channels, -1)
        theta_v = theta_v.permute(0, 2, 1)
        phi_v = self.phi(v).view(batch_size, self.inter_channels, -1)
        R = torch.matmul(theta_v, phi_v)
        N = R.size(-1)
        R_div_C = R / N
        y = torch.matmul(R_div_C, g_v)
        y = y.permute(0, 2, 1).contiguous()
        y = y.view(batch_size, self.inter_channels, *v.size()[2:])
        W_y = self.W(y)
        v_star = W_y + v
        return v_star


class EncoderImagePrecompAttn(nn.Module):

    def __init__(self, img_dim, embed_size, data_name, use_abs=False, no_imgnorm=False):
        super(EncoderImagePrecompAttn, self).__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.use_abs = use_abs
        self.data_name = data_name
        self.fc = nn.Linear(img_dim, embed_size)
        self.init_weights()
        # GSR
        self.img_rnn = nn.GRU(embed_size, embed_size, 1, batch_first=True)
        # GCN reasoning
        self.Rs_GCN_1 = Rs_GCN(in_channels=embed_size, inter_channels=embed_size)
        self.Rs_GCN_2 = Rs_GCN(in_channels=embed_size, inter_channels=embed_size)
        self.Rs_GCN_3 = Rs_GCN(in_channels=embed_size, inter_channels=embed_size)
        self.Rs_GCN_4 = Rs_GCN(in_channels=embed_size, inter_channels=embed_size)
        if self.data_name == 'f30k_precomp':
            self.bn = nn.BatchNorm1d(embed_size)

    def init_weights(self):
        """Xavier initialization for the fully connected layer."""
        r = np.sqrt(6.) / np.sqrt(self.fc.in_features + self.fc.out_features)
        self.fc.weight.data.uniform_(-r, r)
        self.fc.bias.data.fill_(0)

    def forward(self, images):
        fc_img_emd = self.fc(images)
        if self.data_name != 'f30k_precomp':
            fc_img_emd = l2norm(fc_img_emd)
        # GCN reasoning -> B,D,N
        GCN_img_emd = fc_img_emd.permute(0, 2, 1)
        GCN_img_emd = self.Rs_GCN_1(GCN_img_emd)
        GCN_img_emd = self.Rs_GCN_2(GCN_img_emd)
        GCN_img_emd = self.Rs_GCN_3(GCN_img_emd)
        GCN_img_emd = self.Rs_GCN_4(GCN_img_emd)
        # -> B,N,D
        GCN_img_emd = GCN_img_emd.permute(0, 2, 1)
        GCN_img_emd = l2norm(GCN_img_emd)
        rnn_img, hidden_state = self.img_rnn(GCN_img_emd)
        features = hidden_state[0]
        if self.data_name == 'f30k_precomp':
            features = self.bn(features)
        if not self.no_imgnorm:
            features = l2norm(features)
        if self.use_abs:
            features = torch.abs(features)
        return features, GCN_img_emd

    def load_state_dict(self, state_dict, strict=True):
        """The original keeps only the names it knows (so a bn.* entry is dropped for coco_precomp); strict here
        means: every own name must be present."""
        own_state = self.state_dict()
        new_state = collections.OrderedDict()
        for name, param in state_dict.items():
            if name in own_state:
                new_state[name] = param
        return super(EncoderImagePrecompAttn, self).load_state_dict(new_state, strict=strict)


class EncoderText(nn.Module):

    def __init__(self, vocab_size, word_dim, embed_size, num_layers, use_abs=False):
        super(EncoderText, self).__init__()
        self.use_abs = use_abs
        self.embed_size = embed_size
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True)
        self.init_weights()

    def init_weights(self):
        self.embed.weight.data.uniform_(-0.1, 0.1)

    def forward(self, x, lengths):
        x = self.embed(x)
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        padded = pad_packed_sequence(out, batch_first=True)
        I = torch.LongTensor(lengths).view(-1, 1, 1)
        I = I.expand(x.size(0), 1, self.embed_size) - 1
        out = torch.gather(padded[0], 1, I).squeeze(1)
        out = l2norm(out)
        if self.use_abs:
            out = torch.abs(out)
        return out


def cosine_sim(im, s):
    return im.mm(s.t())


class ContrastiveLoss(nn.Module):

    def __init__(self, margin=0, measure=False, max_violation=False):
        super(ContrastiveLoss, self).__init__()
        self.margin = margin
        if measure == 'order':
            raise NotImplementedError("the order measure is not part of this port")
        self.sim = cosine_sim
        self.max_violation = max_violation

    def forward(self, im, s):
        scores = self.sim(im, s)
        diagonal = scores.diag().view(im.size(0), 1)
        d1 = diagonal.expand_as(scores)
        d2 = diagonal.t().expand_as(scores)
        cost_s = (self.margin + scores - d1).clamp(min=0)
        cost_im = (self.margin + scores - d2).clamp(min=0)
        mask = torch.eye(scores.size(0)) > .5
        cost_s = cost_s.masked_fill_(mask, 0)
        cost_im = cost_im.masked_fill_(mask, 0)
        if self.max_violation:
            cost_s = cost_s.max(1)[0]
            cost_im = cost_im.max(0)[0]
        return cost_s.sum() + cost_im.sum()


# ---------------------------------------------------------------------------------------------------------------
# models/ (the captioning branch, from the video-captioning code the authors reused)
# ---------------------------------------------------------------------------------------------------------------

class EncoderRNN(nn.Module):
    def __init__(self, dim_vid, dim_hidden, input_dropout_p=0.2, rnn_dropout_p=0.5,
                 n_layers=1, bidirectional=False, rnn_cell='gru'):
        super(EncoderRNN, self).__init__()
        self.dim_vid = dim_vid
        self.dim_hidden = dim_hidden
        self.input_dropout_p = input_dropout_p
        self.rnn_dropout_p = rnn_dropout_p
        self.n_layers = n_layers
        self.bidirectional = bidirectional
        self.rnn_cell = rnn_cell
        self.vid2hid = nn.Linear(dim_vid, dim_hidden)
        self.input_dropout = nn.Dropout(input_dropout_p)
        if rnn_cell.lower() == 'lstm':
            self.rnn_cell = nn.LSTM
        elif rnn_cell.lower() == 'gru':
            self.rnn_cell = nn.GRU
        self.rnn = self.rnn_cell(dim_hidden, dim_hidden, n_layers, batch_first=True,
                                 bidirectional=bool(bidirectional), dropout=self.rnn_dropout_p)
        self._init_hidden()

    def _init_hidden(self):
        nn.init.xavier_normal_(self.vid2hid.weight)

    def forward(self, vid_feats):
        batch_size, seq_len, dim_vid = vid_feats.size()
        vid_feats = self.vid2hid(vid_feats.reshape(-1, dim_vid))  # .view in the original (contiguous on CUDA there)
        vid_feats = self.input_dropout(vid_feats)
        vid_feats = vid_feats.view(batch_size, seq_len, self.dim_hidden)
        self.rnn.flatten_parameters()
        output, hidden = self.rnn(vid_feats)
        return output, hidden


class Attention(nn.Module):
    """Additive attention; its _init_hidden is commented out in the original, so the Linears keep PyTorch's init."""

    def __init__(self, dim):
        super(Attention, self).__init__()
        self.dim = dim
        self.linear1 = nn.Linear(dim * 2, dim)
        self.linear2 = nn.Linear(dim, 1, bias=False)

    def forward(self, hidden_state, encoder_outputs):
        """hidden_state (B, dim), encoder_outputs (B, seq_len, dim) -> context (B, dim)."""
        batch_size, seq_len, _ = encoder_outputs.size()
        hidden_state = hidden_state.unsqueeze(1).repeat(1, seq_len, 1)
        inputs = torch.cat((encoder_outputs, hidden_state), 2).view(-1, self.dim * 2)
        o = self.linear2(torch.tanh(self.linear1(inputs)))
        e = o.view(batch_size, seq_len)
        alpha = F.softmax(e, dim=1)
        context = torch.bmm(alpha.unsqueeze(1), encoder_outputs).squeeze(1)
        return context


class DecoderRNN(nn.Module):

    def __init__(self, vocab_size, max_len, dim_hidden, dim_word, n_layers=1, rnn_cell='gru',
                 bidirectional=False, input_dropout_p=0.1, rnn_dropout_p=0.1):
        super(DecoderRNN, self).__init__()
        self.bidirectional_encoder = bidirectional
        self.dim_output = vocab_size
        self.dim_hidden = dim_hidden * 2 if bidirectional else dim_hidden
        self.dim_word = dim_word
        self.max_length = max_len
        self.sos_id = 1
        self.eos_id = 0
        self.input_dropout = nn.Dropout(input_dropout_p)
        self.embedding = nn.Embedding(self.dim_output, dim_word)
        self.attention = Attention(self.dim_hidden)
        if rnn_cell.lower() == 'lstm':
            self.rnn_cell = nn.LSTM
        elif rnn_cell.lower() == 'gru':
            self.rnn_cell = nn.GRU
        self.rnn = self.rnn_cell(self.dim_hidden + dim_word, self.dim_hidden, n_layers, batch_first=True,
                                 dropout=rnn_dropout_p)
        self.out = nn.Linear(self.dim_hidden, self.dim_output)
        self._init_weights()

    def forward(self, encoder_outputs, encoder_hidden, targets=None, mode='train', opt={}):
        sample_max = opt.get('sample_max', 1)
        temperature = opt.get('temperature', 1.0)
        batch_size, _, _ = encoder_outputs.size()
        decoder_hidden = self._init_rnn_state(encoder_hidden)
        seq_logprobs = []
        seq_preds = []
        self.rnn.flatten_parameters()
        if mode == 'train':
            targets_emb = self.embedding(targets)
            for i in range(self.max_length - 1):
                current_words = targets_emb[:, i, :]
                context = self.attention(decoder_hidden.squeeze(0), encoder_outputs)
                decoder_input = torch.cat([current_words, context], dim=1)
                decoder_input = self.input_dropout(decoder_input).unsqueeze(1)
                decoder_output, decoder_hidden = self.rnn(decoder_input, decoder_hidden)
                logprobs = F.log_softmax(self.out(decoder_output.squeeze(1)), dim=1)
                seq_logprobs.append(logprobs.unsqueeze(1))
            seq_logprobs = torch.cat(seq_logprobs, 1)
        elif mode == 'inference':
            for t in range(self.max_length - 1):
                context = self.attention(decoder_hidden.squeeze(0), encoder_outputs)
                if t == 0:  # input <bos>
                    it = torch.LongTensor([self.sos_id] * batch_size)
                elif sample_max:
                    sampleLogprobs, it = torch.max(logprobs, 1)
                    seq_logprobs.append(sampleLogprobs.view(-1, 1))
                    it = it.view(-1).long()
                else:
                    if temperature == 1.0:
                        prob_prev = torch.exp(logprobs)
                    else:
                        prob_prev = torch.exp(torch.div(logprobs, temperature))
                    it = torch.multinomial(prob_prev, 1)
                    sampleLogprobs = logprobs.gather(1, it)
                    seq_logprobs.append(sampleLogprobs.view(-1, 1))
                    it = it.view(-1).long()
                seq_preds.append(it.view(-1, 1))
                xt = self.embedding(it)
                decoder_input = torch.cat([xt, context], dim=1)
                decoder_input = self.input_dropout(decoder_input).unsqueeze(1)
                decoder_output, decoder_hidden = self.rnn(decoder_input, decoder_hidden)
                logprobs = F.log_softmax(self.out(decoder_output.squeeze(1)), dim=1)
            seq_logprobs = torch.cat(seq_logprobs, 1)
            seq_preds = torch.cat(seq_preds[1:], 1)
        return seq_logprobs, seq_preds

    def _init_weights(self):
        nn.init.xavier_normal_(self.out.weight)

    def _init_rnn_state(self, encoder_hidden):
        if encoder_hidden is None:
            return None
        if isinstance(encoder_hidden, tuple):
            encoder_hidden = tuple([self._cat_directions(h) for h in encoder_hidden])
        else:
            encoder_hidden = self._cat_directions(encoder_hidden)
        return encoder_hidden

    def _cat_directions(self, h):
        if self.bidirectional_encoder:
            h = torch.cat([h[0:h.size(0):2], h[1:h.size(0):2]], 2)
        return h


class S2VTAttModel(nn.Module):
    def __init__(self, encoder, decoder):
        super(S2VTAttModel, self).__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, vid_feats, target_variable=None, mode='train', opt={}):
        encoder_outputs, encoder_hidden = self.encoder(vid_feats)
        seq_prob, seq_preds = self.decoder(encoder_outputs, encoder_hidden, target_variable, mode, opt)
        return seq_prob, seq_preds


class LanguageModelCriterion(nn.Module):
    """misc/utils.py: sum of the masked token NLLs divided by the BATCH SIZE (not by the mask's sum)."""

    def __init__(self):
        super(LanguageModelCriterion, self).__init__()
        self.loss_fn = nn.NLLLoss(reduction='none')

    def forward(self, logits, target, mask):
        batch_size = logits.shape[0]
        target = target[:, :logits.shape[1]]
        mask = mask[:, :logits.shape[1]]
        logits = logits.contiguous().view(-1, logits.shape[2])
        target = target.contiguous().view(-1)
        mask = mask.contiguous().view(-1)
        loss = self.loss_fn(logits, target)
        output = torch.sum(loss * mask) / batch_size
        return output


# ---------------------------------------------------------------------------------------------------------------
# model.py: the VSRN wrapper (train_emb = one training step)
# ---------------------------------------------------------------------------------------------------------------

class VSRN(object):

    def __init__(self, opt):
        self.grad_clip = opt.grad_clip
        if not opt.data_name.endswith('_precomp'):
            raise NotImplementedError("only the precomputed-feature encoder (data_name *_precomp) is ported")
        self.img_enc = EncoderImagePrecompAttn(opt.img_dim, opt.embed_size, opt.data_name,
                                               use_abs=opt.use_abs, no_imgnorm=opt.no_imgnorm)
        self.txt_enc = EncoderText(opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers,
                                   use_abs=opt.use_abs)
        # captioning elements
        self.encoder = EncoderRNN(opt.dim_vid, opt.dim_hidden, bidirectional=opt.bidirectional,
                                  input_dropout_p=opt.input_dropout_p, rnn_cell=opt.rnn_type,
                                  rnn_dropout_p=opt.rnn_dropout_p)
        self.decoder = DecoderRNN(opt.vocab_size, opt.max_len, opt.dim_hidden, opt.dim_word,
                                  input_dropout_p=opt.input_dropout_p, rnn_cell=opt.rnn_type,
                                  rnn_dropout_p=opt.rnn_dropout_p, bidirectional=opt.bidirectional)
        self.caption_model = S2VTAttModel(self.encoder, self.decoder)
        self.crit = LanguageModelCriterion()
        self.criterion = ContrastiveLoss(margin=opt.margin, measure=opt.measure, max_violation=opt.max_violation)
        params = list(self.txt_enc.parameters())
        params += list(self.img_enc.parameters())
        params += list(self.decoder.parameters())
        params += list(self.encoder.parameters())
        params += list(self.caption_model.parameters())  # the same encoder/decoder parameters a second time
        self.params = params
        self.optimizer = torch.optim.Adam(params, lr=opt.learning_rate)
        self.Eiters = 0

    def calcualte_caption_loss(self, fc_feats, labels, masks):
        seq_probs, _ = self.caption_model(fc_feats, labels, 'train')
        loss = self.crit(seq_probs, labels[:, 1:], masks[:, 1:])
        return loss

    def state_dict(self):
        return [self.img_enc.state_dict(), self.txt_enc.state_dict()]

    def load_state_dict(self, state_dict):
        self.img_enc.load_state_dict(state_dict[0])
        self.txt_enc.load_state_dict(state_dict[1])

    def train_start(self):
        self.img_enc.train()
        self.txt_enc.train()

    def val_start(self):
        self.img_enc.eval()
        self.txt_enc.eval()

    def forward_emb(self, images, captions, lengths, volatile=False):
        cap_emb = self.txt_enc(captions, lengths)
        img_emb, GCN_img_emd = self.img_enc(images)
        return img_emb, cap_emb, GCN_img_emd

    def forward_loss(self, img_emb, cap_emb, **kwargs):
        return self.criterion(img_emb, cap_emb)

    def train_emb(self, images, captions, lengths, ids, caption_labels, caption_masks, *args):
        """One training step; returns (retrieval_loss, caption_loss) as floats."""
        self.Eiters += 1
        img_emb, cap_emb, GCN_img_emd = self.forward_emb(images, captions, lengths)
        self.optimizer.zero_grad()
        caption_loss = self.calcualte_caption_loss(GCN_img_emd, caption_labels, caption_masks)
        self.optimizer.zero_grad()
        retrieval_loss = self.forward_loss(img_emb, cap_emb)
        loss = retrieval_loss + caption_loss
        loss.backward()
        if self.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        return retrieval_loss.item(), caption_loss.item()


def full_state_dict(model):
    """Every tensor of a VSRN under the names CrossModal checkpoints use: img_enc.<img_sd>, txt_enc.<txt_sd>,
    caption_model.<S2VTAttModel state dict> (= caption_model.encoder.* and caption_model.decoder.*)."""
    out = collections.OrderedDict()
    for prefix, module in (("img_enc.", model.img_enc), ("txt_enc.", model.txt_enc),
                           ("caption_model.", model.caption_model)):
        for k, v in module.state_dict().items():
            out[prefix + k] = v
    return out


def full_state_dict_params(model):
    """The trainable parameters (no buffers) under the names of full_state_dict, each once."""
    out = collections.OrderedDict()
    for prefix, module in (("img_enc.", model.img_enc), ("txt_enc.", model.txt_enc),
                           ("caption_model.", model.caption_model)):
        for k, v in module.named_parameters():
            out[prefix + k] = v
    return out


def load_full_state_dict(model, tensors):
    """Inverse of full_state_dict (strict: every name of the model must be given, nothing else)."""
    expected = full_state_dict(model)
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if missing or unexpected:
        raise KeyError(f"missing {missing[:5]}, unexpected {unexpected[:5]}")
    for prefix, module in (("img_enc.", model.img_enc), ("txt_enc.", model.txt_enc),
                           ("caption_model.", model.caption_model)):
        sd = collections.OrderedDict((k[len(prefix):], v) for k, v in tensors.items() if k.startswith(prefix))
        nn.Module.load_state_dict(module, sd, strict=True)


# ---------------------------------------------------------------------------------------------------------------
# train.py options, data.py caption targets
# ---------------------------------------------------------------------------------------------------------------

def default_opt(**over):
    """train.py's argparse defaults (names and values), plus vocab_size as main() adds it. The published commands
    add --max_violation (and --lr_update 10 for F30K); dim_vid must equal embed_size (the caption encoder reads
    the GCN features)."""
    o = dict(data_path='/data', data_name='precomp', vocab_path='./vocab/', margin=0.2, num_epochs=30,
             batch_size=128, word_dim=300, embed_size=2048, grad_clip=2., crop_size=224, num_layers=1,
             learning_rate=.0002, lr_update=15, workers=10, log_step=10, val_step=500, logger_name='runs/runX',
             resume='', max_violation=False, img_dim=2048, finetune=False, cnn_type='vgg19', use_restval=False,
             measure='cosine', use_abs=False, no_imgnorm=False, reset_train=False, dim_vid=2048, dim_hidden=512,
             bidirectional=0, input_dropout_p=0.2, rnn_type='gru', rnn_dropout_p=0.5, dim_word=300, max_len=60)
    o.update(over)
    return argparse.Namespace(**o)


def caption_target(ids, max_len):
    """data.py PrecompDataset.__getitem__: ids = [<start>] + word ids + [<end>] (the retrieval caption).
    Returns (caption_label int64 [max_len + 1], caption_mask float32 [max_len + 1])."""
    cap = list(ids)
    if len(cap) > max_len - 1:
        cap = cap[:max_len]
        cap[-1] = 2  # vocab('<end>')
    gts = np.zeros(max_len + 1)
    for j, w in enumerate(cap):
        gts[j] = w
    mask = np.zeros(max_len + 1)
    first_zero = (gts == 0).nonzero()[0][0]
    mask[:int(first_zero) + 1] = 1
    return gts.astype(np.int64), mask.astype(np.float32)


def collate(items, max_len):
    """data.py collate_fn for (image [N, d], ids) pairs: sort by caption length (descending, stable here; Python's
    sort is stable too), zero-pad; returns images, captions, lengths, caption_labels, caption_masks."""
    items = sorted(items, key=lambda x: len(x[1]), reverse=True)
    lengths = [len(c) for _, c in items]
    captions = torch.zeros(len(items), max(lengths), dtype=torch.long)
    labels, masks = [], []
    for i, (_, c) in enumerate(items):
        captions[i, :len(c)] = torch.tensor(c)
        g, m = caption_target(c, max_len)
        labels.append(torch.from_numpy(g))
        masks.append(torch.from_numpy(m))
    images = torch.stack([torch.as_tensor(np.asarray(im), dtype=torch.float32) for im, _ in items], 0)
    return images, captions, lengths, torch.stack(labels, 0), torch.stack(masks, 0)


def adjust_learning_rate(opt, optimizer, epoch):
    lr = opt.learning_rate * (0.1 ** (epoch // opt.lr_update))
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr
