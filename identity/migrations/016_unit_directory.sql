-- The deployment's unit directory (ListUnitDirectory): a unit's name matched without
-- diacritics ("luc nam" finds "UBND huyện Lục Nam"), as people type it. Names are stored NFC
-- (the service normalizes every input), so the precomposed Vietnamese letters are the ones to
-- fold; a translate() keeps the function IMMUTABLE, unlike unaccent. Units are few (thousands
-- in a province): the directory's filter reads them all, no index is needed.
CREATE FUNCTION unit_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT btrim(regexp_replace(translate(t,
    'àÀáÁạẠảẢãÃâÂầẦấẤậẬẩẨẫẪăĂằẰắẮặẶẳẲẵẴèÈéÉẹẸẻẺẽẼêÊềỀếẾệỆểỂễỄìÌíÍịỊỉỈĩĨòÒóÓọỌỏỎõÕôÔồỒốỐộỘổỔỗỖơƠờỜớỚợỢởỞỡỠùÙúÚụỤủỦũŨưƯừỪứỨựỰửỬữỮỳỲýÝỵỴỷỶỹỸđĐABCDEFGHIJKLMNOPQRSTUVWXYZ',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeeeeeeeiiiiiiiiiioooooooooooooooooooooooooooooooooouuuuuuuuuuuuuuuuuuuuuuyyyyyyyyyyddabcdefghijklmnopqrstuvwxyz'), '\s+', ' ', 'g'))
$$;
